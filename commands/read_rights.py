"""The right of every read the API answers, beside the commands' (``commands.authorization``
re-exports this table and ``authorize_read``; ``domain.access`` has the rules).

A route names the read it is (``adapters.http.reading.reads``); this table says what that
read needs. A route naming a read that is not here fails when the app is built, and the
app refuses to build with a GET route that names none, so no read comes without a right.
Which records a read shows is decided per record (``ensure_visible``), not here.
"""

from __future__ import annotations

from domain.access import Principal, ReadRight, ensure_may_read

# What every role may read (over the records it may see).
_READ = (
    "who they are",
    "users",
    "a user",
    "a product",
    "a price book",
    "a bundle",
    "the exchange rates",
    "a pipeline",
    "an account",
    "accounts",
    "an opportunity",
    "opportunities",
    "the pipeline board",
    "quotes",
    "contacts",
    "a quote",
    "a document",
    "leads",
    "a lead",
    "a contact",
    "the custom fields",
    "the lead summary",
    "the lead rules",
    "campaigns",
    "a campaign",
    "the campaign report",
    "the pipeline chart",
    "the forecast",
    "the stage history",
    "baselines",
    "a baseline",
    "a baseline comparison",
    "a baseline verification",
    "the read models' status",
    "contracts",
    "the contract summary",
    "a contract",
    "tasks",
    "a task",
    "notifications",
)

READS: dict[str, ReadRight] = {
    **dict.fromkeys(_READ, "read"),
    "the history of a record": "history",
    "the access log": "audit",
    "the actions of a user": "audit",
    "who could see a record": "audit",
    "the webhooks": "settings",
    "a webhook's deliveries": "settings",
    "the automations": "settings",
}


def authorize_read(principal: Principal, read: str) -> None:
    """Refuse ``read`` (403) unless ``principal``'s role may make it."""
    right = READS.get(read)
    if right is None:
        raise TypeError(f"the read {read!r} has no right in commands.read_rights")
    ensure_may_read(principal, right, read)
