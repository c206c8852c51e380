"""The demo's contacts: a few people at its customers' accounts, made by hand, beside the
ones qualifying a lead makes (the lead's person); and how the demo shows them.

Their names are personal data, sealed in the read model like a lead's: the demo opens
them to print them, as the local operator, and writes each read to the access log first
(``route``: ``crmledger demo``), as ``crmledger history`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TextIO
from uuid import UUID, uuid4

import msgspec

from adapters.bootstrap import LOCAL_OPERATOR, Services
from adapters.event_store.access_log import AccessEntry
from commands.contacts import CreateContact
from domain.account import Account
from domain.contact import ContactCreated
from domain.ids import account_id_for
from readmodels.contacts.tables import TABLE, ContactRow
from readmodels.versions import created, current

# (first name, last name, title, owner): at the demo's accounts in turn.
PEOPLE = (
    ("Mara", "Lindqvist", "Head of Procurement", "alice"),
    ("Tomasz", "Wojcik", "IT Director", "bob"),
    ("Leila", "Haddad", "CFO", "carol"),
    ("Pieter", "de Vries", "Operations Manager", "dave"),
    ("Sofia", "Marino", "Project Lead", "erin"),
)
ROUTE = "crmledger demo"


def seed_contacts(do: Callable[[object], UUID], accounts: Sequence[str], out: TextIO) -> int:
    """A contact at each of the first of ``accounts`` (names), owned by one of its reps."""
    people = list(zip(PEOPLE, accounts, strict=False))
    print(f"Seeding {len(people)} contacts at the accounts…", file=out)
    for (first, last, title, owner), account in people:
        email = f"{first}.{last.replace(' ', '')}@example.com".lower()
        do(
            CreateContact(
                contact_id=uuid4(),
                first_name=first,
                last_name=last,
                email=email,
                title=title,
                account_id=account_id_for(account),
                owner=owner,
            )
        )
    return len(people)


def contact_rows(services: Services) -> list[dict[str, Any]]:
    """Every contact as the read model holds it now, its name opened (and the read logged)
    and its account named: the demo's table of them."""
    rows = current(services.views, TABLE, ContactRow, order=created(TABLE))  # the order made
    sealed = [row for row in rows if row.personal_sealed is not None and not row.anonymized]
    opened = services.store.open_sealed(
        [(UUID(row.id), row.personal_sealed or "", ContactCreated) for row in sealed]
    )
    names: dict[str, str] = {}
    for row, value in zip(sealed, opened, strict=True):
        person = None if value is None else value.get("person")
        if person is not None:
            fields = msgspec.to_builtins(person)
            names[row.id] = f"{fields['first_name']} {fields['last_name']}"
    now = services.clock.now()
    services.store.record_accesses(
        [
            AccessEntry(
                record_id=UUID(contact_id),
                login=LOCAL_OPERATOR.by,
                at=now,
                route=ROUTE,
                request_id=uuid4().hex,
            )
            for contact_id in names
        ]
    )
    return [
        {
            "name": names.get(row.id, "(erased)"),
            "title": row.title,
            "account": _account_name(services, row.account_id),
            "owner": row.owner,
            "made": "from a lead" if row.lead_id else "by hand",
            "id": row.id,
        }
        for row in rows
    ]


def _account_name(services: Services, account_id: str | None) -> str | None:
    if account_id is None:
        return None
    account = services.store.load(UUID(account_id))
    return account.name if isinstance(account, Account) else None
