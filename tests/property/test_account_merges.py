"""Merges of accounts, at random, against a reference: a merge is taken exactly when the
rules allow it (not into itself, not of or into a merged account), and a record filed
under any account lands under the last survivor of its chain of merges."""

from __future__ import annotations

from uuid import uuid5

from hypothesis import given, settings
from hypothesis import strategies as st

from commands.accounts import MergeAccount
from commands.contacts import CreateContact
from commands.reference_data import CreateAccount
from domain.contact import Contact
from domain.errors import RuleViolated
from domain.ids import account_id_for
from tests.unit.test_lead_commands import App

ACCOUNTS = 5
NAMES = [f"Account {n}" for n in range(ACCOUNTS)]
IDS = [account_id_for(name) for name in NAMES]
MERGES = st.lists(
    st.tuples(st.integers(0, ACCOUNTS - 1), st.integers(0, ACCOUNTS - 1)), max_size=10
)


def root(merged_into: dict[int, int], n: int) -> int:
    while n in merged_into:
        n = merged_into[n]
    return n


@settings(max_examples=60, deadline=None)
@given(MERGES)
def test_merges_are_taken_as_the_rules_say_and_links_follow_the_last_survivor(
    merges: list[tuple[int, int]],
) -> None:
    app = App()
    for name in NAMES:
        app.run(CreateAccount(name=name))
    merged_into: dict[int, int] = {}
    for merged, into in merges:
        allowed = merged != into and merged not in merged_into and into not in merged_into
        try:
            app.run(MergeAccount(account_id=IDS[merged], into=IDS[into]))
        except RuleViolated:
            assert not allowed
        else:
            assert allowed
            merged_into[merged] = into
    for n, account_id in enumerate(IDS):
        contact_id = uuid5(account_id, "contact")
        app.run(
            CreateContact(
                contact_id=contact_id, first_name="Jo", last_name="Doe", account_id=account_id
            )
        )
        contact = app.store.load(contact_id)
        assert isinstance(contact, Contact)
        assert contact.account_id == IDS[root(merged_into, n)]
