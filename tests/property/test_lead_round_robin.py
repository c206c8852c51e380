"""The split's round-robin (domain/lead_routing.py ``pick``/``advance``), for any split.

For percentages p_i (whole, 1..100, summing to 100) and n leads:
- after every lead, each user's count c_i satisfies |c_i − n × p_i / 100| < 1;
- after every multiple of 100 leads, c_i = n × p_i / 100 exactly;
- the same rule state always picks the same user (a replay routes identically);
- ``route`` with the ``LeadSplitPicked`` events folded on a ``LeadRouting`` gives the
  same sequence as ``pick``/``advance`` on the rule alone.
"""

from __future__ import annotations

from itertools import pairwise
from uuid import UUID, uuid5

import msgspec
from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain.aggregate import fold
from domain.lead_routing import LeadRouting, LeadRule, add_rule, advance, pick, route

NAMESPACE = UUID("3e9a7b1c-2d4f-4a6b-8c0d-1e2f3a4b5c6d")
RULE = uuid5(NAMESPACE, "split")


@st.composite
def percentages(draw: st.DrawFn) -> tuple[int, ...]:
    """1 to 8 whole percentages from 1 to 100 summing to 100 (any composition of 100)."""
    cuts = draw(st.lists(st.integers(1, 99), unique=True, max_size=7))
    bounds = [0, *sorted(cuts), 100]
    return tuple(b - a for a, b in pairwise(bounds))


def routing_for(shares: tuple[int, ...]) -> LeadRouting:
    """One catch-all split rule: user0 gets shares[0] percent, user1 shares[1]…"""
    split = {f"user{i}": p for i, p in enumerate(shares)}
    routing = fold(None, add_rule(None, rule_id=RULE, priority=1, conditions=(), split=split))
    assert isinstance(routing, LeadRouting)
    return routing


def split_rule(shares: tuple[int, ...]) -> LeadRule:
    return routing_for(shares).rules[0]


def picks(rule: LeadRule, n: int) -> list[str]:
    sequence = []
    for _ in range(n):
        user = pick(rule)
        sequence.append(user)
        rule = msgspec.structs.replace(rule, counts=advance(rule, user))
    return sequence


def check_bounds(shares: tuple[int, ...], sequence: list[str]) -> None:
    counts = [0] * len(shares)
    for n, user in enumerate(sequence, start=1):
        counts[int(user.removeprefix("user"))] += 1
        for count, percent in zip(counts, shares, strict=True):
            # |count − n × percent / 100| < 1, in whole numbers
            assert abs(100 * count - n * percent) < 100, (n, counts, shares)
        if n % 100 == 0:
            assert [100 * c for c in counts] == [n * p for p in shares], (n, counts, shares)


@settings(max_examples=300, deadline=None)
@given(shares=percentages(), n=st.integers(0, 300))
@example(shares=(50, 30, 20), n=300)
@example(shares=(34, 33, 33), n=300)
@example(shares=(1, 99), n=300)
@example(shares=(100,), n=5)
@example(shares=(1, 1, 1, 1, 1, 1, 1, 93), n=300)
def test_every_user_stays_within_one_lead_of_their_share(shares: tuple[int, ...], n: int) -> None:
    check_bounds(shares, picks(split_rule(shares), n))


@settings(max_examples=100, deadline=None)
@given(shares=percentages())
def test_every_hundred_leads_match_the_percentages_exactly(shares: tuple[int, ...]) -> None:
    # 300 leads: the bounds after each one, exact counts at 100, 200 and 300.
    check_bounds(shares, picks(split_rule(shares), 300))


@settings(max_examples=100, deadline=None)
@given(shares=percentages(), n=st.integers(1, 200))
def test_the_same_rule_state_always_picks_the_same_users(shares: tuple[int, ...], n: int) -> None:
    sequence = picks(split_rule(shares), n)
    assert picks(split_rule(shares), n) == sequence
    # Picking from a rule part-way through continues the same sequence.
    half = n // 2
    rule = split_rule(shares)
    for user in sequence[:half]:
        rule = msgspec.structs.replace(rule, counts=advance(rule, user))
    assert picks(rule, n - half) == sequence[half:]


@settings(max_examples=100, deadline=None)
@given(shares=percentages(), n=st.integers(1, 200))
def test_routing_with_the_picks_folded_matches_pick_and_advance(
    shares: tuple[int, ...], n: int
) -> None:
    routing = routing_for(shares)
    routed = []
    for k in range(n):
        decided = route(routing, uuid5(NAMESPACE, f"lead {k}"), {})
        assert decided.owner is not None and decided.rule_id == RULE
        routed.append(decided.owner)
        routing = fold(routing, decided.events)
    assert routed == picks(split_rule(shares), n)
    check_bounds(shares, routed)
    assert sum(routing.rules[0].counts) == n
