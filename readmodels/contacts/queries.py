"""One contact as it stood at any position, and whether a user may see it then.

Each change of a contact is a new version of its row in ``contact_versions_v5``
(``valid_from`` … ``valid_to`` log positions, ``readmodels.versions``); ``contacts_v5``
(a view) holds the current ones. Who may see a contact is decided by the one rule
(``domain.access.sees``) with its owner then and its sharing then (``readmodels.sharing``).

The contacts list (``readmodels.lists``) filters and sorts by the columns kept in the
clear; its search finds words of the job title (the full-text index), and an exact
e-mail address or phone number only through the event store's digests of them (the
HTTP route looks them up): a person's data is never searched in the clear.
"""

from __future__ import annotations

from domain.access import RecordAccess
from readmodels.contacts.tables import TABLE, ContactRow
from readmodels.lists import Filter, ListSpec, Visibility
from readmodels.scope import access
from readmodels.sharing.queries import sharing_of
from readmodels.slice import Rows
from readmodels.versions import current


def contact_at(rows: Rows, contact_id: str, position: int | None) -> ContactRow | None:
    """The contact as it stood at ``position`` (None: now); None when there was none."""
    found = current(
        rows,
        TABLE,
        ContactRow,
        position=position,
        clauses=["id = ?"],
        params=[rows.param("id", contact_id)],
    )
    return found[0] if found else None


def contact_access(rows: Rows, row: ContactRow, position: int | None) -> RecordAccess:
    """What decides who sees the contact as it stood at ``position`` (None: now): its owner
    then and its sharing then (``domain.access.sees`` decides, with today's rights)."""
    sharing = sharing_of(rows, "contact", row.id, position)
    if sharing is None:
        return RecordAccess(owners=frozenset({row.owner or ""}))
    return access(sharing, row.owner, None)


CONTACTS = ListSpec(
    name="contacts",
    table=TABLE,
    row=ContactRow,
    filters={
        "owner": Filter("owner"),
        "account_id": Filter("account_id"),
        "anonymized": Filter("anonymized"),
    },
    sorts=("title", "owner", "created_at", "updated_at"),
    default_sort="-updated_at",
    visibility=Visibility("contact"),
)
