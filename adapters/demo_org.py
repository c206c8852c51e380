"""The demo's organisation: an admin, two managers with three reps each, an analyst, an
auditor, and a partner user working for the demo's partner account."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO
from uuid import UUID

from commands.reference_data import CreateAccount
from commands.users import AddUser
from domain.ids import account_id_for

PARTNER_ACCOUNT = "Northwind Partners"
# login, role, manager, name — in an order that adds each manager before their reps.
USERS: tuple[tuple[str, str, str | None, str], ...] = (
    ("admin", "admin", None, "Ada Admin"),
    ("maria", "manager", None, "Maria Moreau"),
    ("tom", "manager", None, "Tom Tanaka"),
    ("alice", "rep", "maria", "Alice Adler"),
    ("bob", "rep", "maria", "Bob Baker"),
    ("carol", "rep", "maria", "Carol Chen"),
    ("dave", "rep", "tom", "Dave Diaz"),
    ("erin", "rep", "tom", "Erin Evans"),
    ("frank", "rep", "tom", "Frank Fischer"),
    ("ana", "analyst", None, "Ana Alves"),
    ("audrey", "auditor", None, "Audrey Aubert"),
    ("pat", "partner", None, "Pat Parker"),
)


def seed_organisation(do: Callable[[object], UUID], out: TextIO) -> None:
    do(CreateAccount(name=PARTNER_ACCOUNT, partner=True))
    partner_id = account_id_for(PARTNER_ACCOUNT)
    for login, role, manager, name in USERS:
        do(
            AddUser(
                login=login,
                role=role,
                manager=manager,
                name=name,
                partner_id=partner_id if role == "partner" else None,
            )
        )
    print(
        f"Organisation: {len(USERS)} users (an admin, managers maria and tom with three reps "
        f"each, an analyst, an auditor, partner user pat of {PARTNER_ACCOUNT}).",
        file=out,
    )
