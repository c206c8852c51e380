"""Custom values in the read models, on SQLite and on PostgreSQL: the leads and contacts
tables keep each value's canonical text, and the one place that writes SQL on them
(``readmodels.custom_values``) filters and sorts by them alike on both databases; the
custom fields read model answers the definitions as of any position; the Kafka envelope
carries the values."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from adapters.bootstrap import Services
from adapters.event_store.log import EventLog
from adapters.kafka_relay import envelope
from commands.contacts import ChangeContact, CreateContact
from commands.custom_fields import DefineCustomField, DeleteCustomField
from commands.leads import CreateLead
from domain.custom_fields import FieldDefinition
from domain.custom_values import query_text
from readmodels.contacts.tables import TABLE as CONTACTS
from readmodels.contacts.tables import ContactRow
from readmodels.custom_fields.queries import definitions_at, entity_of
from readmodels.custom_values import custom_filter, custom_sort
from readmodels.leads.tables import LEAD_TABLE, LeadRow
from readmodels.versions import current

pytestmark = pytest.mark.users("alice")

FIELDS: dict[str, dict[str, Any]] = {
    "size": {"type": "number"},
    "fee": {"type": "money"},
    "since": {"type": "date"},
    "vip": {"type": "bool"},
    "tags": {"type": "multiselect", "options": ("a", "b", "c")},
    "note": {"type": "text"},
}


def project(services: Services) -> int:
    projector = services.projector()
    projector.start()
    projector.catch_up()
    return services.queries.tracked()


def define_all(services: Services, entity: str) -> None:
    for key, spec in FIELDS.items():
        services.bus.execute(
            DefineCustomField(
                entity=entity,  # type: ignore[arg-type]
                key=key,
                label=key.title(),
                type=spec["type"],
                options=spec.get("options", ()),
            )
        )


def contact(services: Services, name: str, **custom: Any) -> UUID:
    contact_id = uuid4()
    services.bus.execute(
        CreateContact(contact_id=contact_id, first_name="", last_name=name, custom=custom)
    )
    return contact_id


def names(services: Services, clauses: list[str], params: list[Any], order: str = "") -> list[str]:
    rows = services.views
    found = current(rows, CONTACTS, ContactRow, clauses=clauses, params=params, order=order)
    by_id = {row.id: row for row in found}
    return [NAMES[row_id] for row_id in by_id]


NAMES: dict[str, str] = {}


def test_contacts_filter_and_sort_by_custom_values_alike_on_both_databases(
    services: Services,
) -> None:
    # Given contact fields of every kind, and four contacts with values in some of them
    define_all(services, "contact")
    NAMES.clear()
    for name, custom in (
        ("ann", {"size": "9", "fee": {"amount": "100", "currency": "EUR"}, "tags": ["a", "b"]}),
        ("bea", {"size": 10, "fee": {"amount": "20.5", "currency": "EUR"}, "vip": True}),
        ("cid", {"size": "-1.5", "since": "2026-01-31", "tags": ["c"], "note": "it's 50%?"}),
        ("dot", {"vip": False, "since": "2025-12-01", "tags": ["b"]}),
    ):
        NAMES[str(contact(services, name, **custom))] = name
    project(services)
    rows = services.views
    fields = entity_of(rows, "contact")

    def where(key: str, raw: str) -> list[str]:
        clause, params = custom_filter(rows, key, fields[key].type, query_text(fields[key], raw))
        return sorted(names(services, [clause], params))

    def order(key: str) -> list[str]:
        expression = custom_sort(rows, key, fields[key].type)
        # NULLS LAST on both: SQLite would put them first, PostgreSQL last
        return names(services, [], [], f"{expression} IS NULL, {expression}, id")

    # When they are filtered by a value of each type, Then the same contacts come
    assert where("size", "10.0") == ["bea"]
    assert where("fee", "100 EUR") == ["ann"]
    assert where("since", "2026-01-31") == ["cid"]
    assert where("vip", "false") == ["dot"]
    assert where("tags", "b") == ["ann", "dot"]
    assert where("note", "it's 50%?") == ["cid"]
    # and sorted, numbers and money by amount, dates and booleans as text
    assert order("size")[:3] == ["cid", "ann", "bea"]
    assert order("fee")[:2] == ["bea", "ann"]
    assert order("since")[:2] == ["dot", "cid"]
    assert order("vip")[:2] == ["dot", "bea"]


def test_a_contacts_and_a_leads_custom_column_keeps_canonical_text(services: Services) -> None:
    define_all(services, "contact")
    define_all(services, "lead")
    made = contact(services, "ann", size=" 12.50 ".strip(), vip=True)
    services.bus.execute(ChangeContact(contact_id=made, custom={"vip": None, "tags": ["c", "a"]}))
    lead_id = uuid4()
    services.bus.execute(
        CreateLead(
            lead_id=lead_id,
            first_name="J",
            last_name="Doe",
            custom={"fee": {"amount": "5", "currency": "JPY"}},
        )
    )
    first = project(services)
    (row,) = current(services.views, CONTACTS, ContactRow, clauses=["id = ?"],
                     params=[services.views.param("id", str(made))])  # fmt: skip
    assert row.custom == {"size": "12.5", "tags": ["a", "c"]}
    (lead,) = current(services.views, LEAD_TABLE, LeadRow, clauses=["id = ?"],
                      params=[services.views.param("id", str(lead_id))])  # fmt: skip
    assert lead.custom == {"fee": "5 JPY"}
    # and the definitions as of any position
    services.bus.execute(DeleteCustomField(entity="contact", key="size"))
    project(services)
    assert "size" not in entity_of(services.views, "contact")
    assert entity_of(services.views, "contact", first)["size"] == FieldDefinition(
        key="size", label="Size", type="number"
    )
    assert [(e, d.key) for e, d in definitions_at(services.views, first, "lead")][:2] == [
        ("lead", "fee"),
        ("lead", "note"),
    ]


def test_a_key_outside_the_pattern_is_never_written_into_sql(services: Services) -> None:
    with pytest.raises(ValueError, match="is not a custom field key"):
        custom_filter(services.views, "x') OR 1=1 --", "text", "a")


def test_the_kafka_envelope_carries_the_custom_values_of_each_event(
    sqlite_services: Services,
) -> None:
    # Given a contact field, a contact made with a value in it and the value cleared
    services = sqlite_services
    services.bus.execute(DefineCustomField(entity="contact", key="vip", label="VIP", type="bool"))
    made = contact(services, "ann", vip=True)
    services.bus.execute(ChangeContact(contact_id=made, custom={"vip": None}))
    # When the relay makes the envelopes of the log
    log = EventLog(services.store.app)
    envelopes = [envelope(log, row) for row in log.read(0, 100)]
    # Then the contact's events carry the values as set, and the definition its field
    mine = [e for e in envelopes if e.aggregate_id == made]
    assert [(e.type, e.data["custom"]) for e in mine] == [
        ("ContactCreated", {"vip": True}),
        ("ContactCustomFieldsChanged", {"vip": None}),
    ]
    (defined,) = [e for e in envelopes if e.type == "CustomFieldDefined"]
    assert (defined.data["key"], defined.data["type"], defined.schema) == ("vip", "bool", 1)
