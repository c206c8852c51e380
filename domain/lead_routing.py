"""The lead processor's rules: who gets a lead that arrives through intake.

- Rules are tried in order of ``priority`` (lower first; equal ones in the
  order they were added). A rule matches when all its conditions hold (none:
  it matches every lead).
- A ``priority`` action sets the lead's priority and evaluation goes on; the
  first matching ``assign``, ``partner`` or ``split`` rule decides where the
  lead goes, and evaluation stops. No such rule matched: the free pool.
- A split picks among its users by a deterministic smooth weighted round-robin
  (see ``pick``): over n leads each user's count differs from n × share by less
  than 1, and every 100 leads the split is exact (50/30/20 gives 50, 30 and 20).
  The counts are state of the ``LeadRouting`` aggregate, changed by one
  ``LeadSplitPicked`` event per pick, so a replay of the log routes identically.
- Conditions compare text case-insensitively, trimmed: ``eq`` equal, ``contains``
  a substring, ``in`` equal to one of a list. A field the lead lacks never matches.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal
from uuid import UUID

import msgspec

from domain.aggregate import AggregateState, Event, evolve
from domain.errors import InvalidInput, NotFound
from domain.lead import PRIORITIES, LeadShare, Priority, check_shares

Operator = Literal["eq", "contains", "in"]
OPERATORS: tuple[Operator, ...] = ("eq", "contains", "in")


class Condition(msgspec.Struct, frozen=True, kw_only=True):
    field: str
    op: Operator
    value: str | tuple[str, ...]

    def holds(self, fields: Mapping[str, str | None]) -> bool:
        found = fields.get(self.field.lower())
        if found is None:
            return False
        text = found.strip().casefold()
        if self.op == "in":
            assert isinstance(self.value, tuple)
            return any(text == v.strip().casefold() for v in self.value)
        assert isinstance(self.value, str)
        wanted = self.value.strip().casefold()
        return text == wanted if self.op == "eq" else wanted in text


class RuleAction(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Exactly one of these."""

    assign: str | None = None
    partner: UUID | None = None
    split: tuple[LeadShare, ...] | None = None
    priority: Priority | None = None

    @property
    def routes(self) -> bool:
        return self.priority is None


class LeadRule(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    priority: int
    conditions: tuple[Condition, ...]
    action: RuleAction
    # How many leads a split gave each of its users, in share order.
    counts: tuple[int, ...] = ()

    def matches(self, fields: Mapping[str, str | None]) -> bool:
        return all(c.holds(fields) for c in self.conditions)


class LeadRouting(AggregateState, frozen=True, kw_only=True):
    """The one set of intake rules (id ``LEAD_ROUTING_ID``), in evaluation order."""

    kind: ClassVar[str] = "lead routing"
    rules: tuple[LeadRule, ...] = ()

    def rule(self, rule_id: UUID) -> LeadRule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise NotFound(f"there is no lead rule with id {rule_id}.")


class LeadRoutingStarted(Event[LeadRouting], frozen=True, kw_only=True):
    def apply(self, state: LeadRouting | None) -> LeadRouting:
        return LeadRouting(id=self.originator_id)


class LeadRuleAdded(Event[LeadRouting], frozen=True, kw_only=True):
    rule: LeadRule

    def apply(self, state: LeadRouting) -> LeadRouting:
        # Stable sort: equal priorities stay in the order they were added.
        rules = sorted((*state.rules, self.rule), key=lambda r: r.priority)
        return evolve(state, rules=tuple(rules))


class LeadRuleRemoved(Event[LeadRouting], frozen=True, kw_only=True):
    rule_id: UUID

    def apply(self, state: LeadRouting) -> LeadRouting:
        return evolve(state, rules=tuple(r for r in state.rules if r.id != self.rule_id))


class LeadSplitPicked(Event[LeadRouting], frozen=True, kw_only=True):
    rule_id: UUID
    lead_id: UUID
    user: str

    def apply(self, state: LeadRouting) -> LeadRouting:
        return evolve(
            state,
            rules=tuple(
                msgspec.structs.replace(r, counts=advance(r, self.user))
                if r.id == self.rule_id
                else r
                for r in state.rules
            ),
        )


LeadRoutingEvent = LeadRoutingStarted | LeadRuleAdded | LeadRuleRemoved | LeadSplitPicked


# --- the split's round-robin ------------------------------------------------------------


def pick(rule: LeadRule) -> str:
    """The user the split's next lead goes to.

    Lead n (counting from 1) may go to a user who is owed one (n × percent > 100 ×
    count); of those, to the one whose next lead falls due first (the smallest m with
    m × percent >= 100 × (count + 1)), the first listed on ties. Earliest deadline
    keeps every user within one lead of n × share (the "chairman assignment"
    bound); plain smooth weighted round-robin can fall a whole lead behind on ties.
    """
    shares = rule.action.split or ()
    counts = rule.counts or (0,) * len(shares)
    n = sum(counts) + 1
    best: tuple[int, int] | None = None
    for i, (share, count) in enumerate(zip(shares, counts, strict=True)):
        if n * share.percent > 100 * count:
            deadline = -(-100 * (count + 1) // share.percent)
            if best is None or deadline < best[0]:
                best = (deadline, i)
    assert best is not None, "the shares sum to 100, so someone is always owed a lead"
    return shares[best[1]].user


def advance(rule: LeadRule, user: str) -> tuple[int, ...]:
    shares = rule.action.split or ()
    counts = rule.counts or (0,) * len(shares)
    return tuple(c + (s.user == user) for c, s in zip(counts, shares, strict=True))


# --- behaviour ---------------------------------------------------------------------------


class Routing(msgspec.Struct, frozen=True, kw_only=True):
    """Where the rules send a lead, and the events that record it."""

    owner: str | None = None
    partner_id: UUID | None = None
    priority: Priority | None = None
    rule_id: UUID | None = None
    events: tuple[LeadRoutingEvent, ...] = ()

    @property
    def pool(self) -> bool:
        return self.owner is None and self.partner_id is None


def route(routing: LeadRouting | None, lead_id: UUID, fields: Mapping[str, str | None]) -> Routing:
    """``fields``: the intake's fields by lower-case name (text, None when absent)."""
    priority: Priority | None = None
    for rule in routing.rules if routing is not None else ():
        if not rule.matches(fields):
            continue
        action = rule.action
        if not action.routes:
            priority = priority or action.priority
            continue
        if action.assign is not None:
            return Routing(owner=action.assign, priority=priority, rule_id=rule.id)
        if action.partner is not None:
            return Routing(partner_id=action.partner, priority=priority, rule_id=rule.id)
        user = pick(rule)
        return Routing(
            owner=user,
            priority=priority,
            rule_id=rule.id,
            events=(LeadSplitPicked(rule_id=rule.id, lead_id=lead_id, user=user),),
        )
    return Routing(priority=priority)


def _condition(raw: Condition) -> Condition:
    field = " ".join(raw.field.split()).lower()
    if not field:
        raise InvalidInput("a condition needs a field.")
    if raw.op not in OPERATORS:
        raise InvalidInput(f"a condition's op is one of {', '.join(OPERATORS)}.")
    if raw.op == "in":
        if isinstance(raw.value, str) or not raw.value or not all(v.strip() for v in raw.value):
            raise InvalidInput("an 'in' condition needs a non-empty list of non-blank values.")
        return Condition(field=field, op="in", value=tuple(raw.value))
    if not isinstance(raw.value, str) or not raw.value.strip():
        raise InvalidInput(f"{raw.op!r} conditions need a text value.")
    return Condition(field=field, op=raw.op, value=raw.value)


def add_rule(
    routing: LeadRouting | None,
    *,
    rule_id: UUID,
    priority: int,
    conditions: tuple[Condition, ...],
    assign: str | None = None,
    partner: UUID | None = None,
    split: dict[str, int] | None = None,
    set_priority: str | None = None,
) -> list[LeadRoutingEvent]:
    given = [a for a in (assign, partner, split, set_priority) if a is not None]
    if len(given) != 1:
        raise InvalidInput("a rule's action is exactly one of assign, partner, split or priority.")
    if isinstance(priority, bool) or priority < 0:
        raise InvalidInput("a rule's priority is a whole number from 0 up.")
    if assign is not None and not assign.strip():
        raise InvalidInput("assign names a user.")
    if set_priority is not None and set_priority not in PRIORITIES:
        raise InvalidInput(f"priority is one of {', '.join(PRIORITIES)}.")
    action = RuleAction(
        assign=assign.strip() if assign is not None else None,
        partner=partner,
        split=check_shares(split) if split is not None else None,
        priority=set_priority,
    )
    if routing is not None and any(r.id == rule_id for r in routing.rules):
        raise InvalidInput(f"the rule id {rule_id} is taken.")
    events: list[LeadRoutingEvent] = [] if routing is not None else [LeadRoutingStarted()]
    rule = LeadRule(
        id=rule_id,
        priority=priority,
        conditions=tuple(_condition(c) for c in conditions),
        action=action,
        counts=(0,) * len(action.split or ()),
    )
    return [*events, LeadRuleAdded(rule=rule)]


def remove_rule(routing: LeadRouting | None, rule_id: UUID) -> list[LeadRoutingEvent]:
    if routing is None:
        raise NotFound(f"there is no lead rule with id {rule_id}.")
    routing.rule(rule_id)
    return [LeadRuleRemoved(rule_id=rule_id)]
