"""Contact commands through ``CommandBus`` on the in-memory store (commands/contacts.py):
what each writes, in one save, and that a refused one writes nothing; the e-mail and phone
digests kept and erased; the rights asked before any handler runs."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

import pytest

from commands.authorization import authorize
from commands.contacts import AnonymizeContact, ChangeContact, CreateContact
from commands.reference_data import CreateAccount
from commands.unit_of_work import Actor
from domain.access import Forbidden, Principal
from domain.contact import (
    Contact,
    ContactAnonymized,
    ContactChanged,
    ContactCreated,
    ContactPersonChanged,
    ContactSharingChanged,
    Person,
)
from domain.errors import DomainError, InvalidInput, NotFound, RuleViolated
from domain.ids import account_id_for
from domain.personal_data import contact_digests
from domain.user import NotAnActiveUser
from tests.unit.test_lead_commands import App

NAMESPACE = UUID("0b5e8d3c-2a41-4f7e-9c6d-1e2f3a4b5c6d")
CONTACT = uuid5(NAMESPACE, "contact")
JANE: dict[str, Any] = {
    "first_name": "Jane",
    "last_name": "Doe",
    "email": "jane@example.com",
    "phone": "030 1234567",
}


def digests(email: str | None, phone: str | None) -> list[str]:
    return contact_digests(email, phone, "DE")


@pytest.fixture
def app() -> App:
    return App()


def create(**fields: Any) -> CreateContact:
    return CreateContact(contact_id=CONTACT, **{**JANE, **fields})


def contact(app: App) -> Contact:
    state = app.store.load(CONTACT)
    assert isinstance(state, Contact)
    return state


def test_creating_a_contact_writes_it_with_its_sharing_in_one_save(app: App) -> None:
    account = app.run(CreateAccount(name="ACME")).id

    answer, written = app.in_one_save(
        create(account_id=account, owner="alice", title="Buyer", private=True, shared_with=("bob",))
    )

    assert (answer.id, answer.created) == (CONTACT, True)
    assert [type(e) for e in written] == [ContactCreated, ContactSharingChanged]
    assert contact(app).person == Person(**JANE)
    assert (contact(app).account_id, contact(app).owner, contact(app).private) == (
        account,
        "alice",
        True,
    )
    # its e-mail and phone are indexed by digest
    for digest in digests("JANE@example.com ", "+49 30 1234567"):
        assert app.store.contacts_with_digest(digest) == [CONTACT]


@pytest.mark.parametrize(
    ("command", "error", "says"),
    [
        (
            create(account_id=account_id_for("Nowhere")),
            NotFound,
            f"there is no account with id {account_id_for('Nowhere')}.",
        ),
        (create(owner="nobody"), NotAnActiveUser, "is not a user; name an active user"),
        (create(last_name=" "), InvalidInput, "a contact needs a last name."),
    ],
)
def test_a_refused_creation_writes_nothing(
    app: App, command: CreateContact, error: type[DomainError], says: str
) -> None:
    app.refused(command, error, says)
    assert app.store.load(CONTACT) is None
    assert app.store.contacts_with_digest(digests("jane@example.com", None)[0]) == []


def test_a_taken_id_is_refused(app: App) -> None:
    app.run(create())
    app.refused(create(), RuleViolated, "is already taken")


def test_a_change_writes_the_person_and_the_details_and_reindexes_the_contact(app: App) -> None:
    app.run(create(owner="alice"))
    account = app.run(CreateAccount(name="Globex")).id

    _, written = app.in_one_save(
        ChangeContact(
            contact_id=CONTACT, email="jane@globex.example", title="CPO", account_id=account
        )
    )

    assert [type(e) for e in written] == [ContactPersonChanged, ContactChanged]
    assert contact(app).person == Person(**{**JANE, "email": "jane@globex.example"})
    assert (contact(app).title, contact(app).account_id) == ("CPO", account)
    # the old address is no longer found, the new one and the phone are
    old_email, phone = digests("jane@example.com", "030 1234567")
    assert app.store.contacts_with_digest(old_email) == []
    assert app.store.contacts_with_digest(phone) == [CONTACT]
    assert app.store.contacts_with_digest(digests("jane@globex.example", None)[0]) == [CONTACT]


def test_a_change_that_changes_nothing_writes_nothing(app: App) -> None:
    app.run(create(owner="alice"))
    before = len(app.store.log)
    app.run(ChangeContact(contact_id=CONTACT, first_name="Jane", owner="alice"))
    assert len(app.store.log) == before


@pytest.mark.parametrize(
    ("change", "error", "says"),
    [
        ({"owner": "nobody"}, NotAnActiveUser, "is not a user; name an active user"),
        ({"account_id": account_id_for("Nowhere")}, NotFound, "there is no account"),
        ({"last_name": ""}, InvalidInput, "a contact needs a last name."),
    ],
)
def test_a_refused_change_writes_nothing(
    app: App, change: dict[str, Any], error: type[DomainError], says: str
) -> None:
    app.run(create(owner="alice"))
    app.refused(ChangeContact(contact_id=CONTACT, **change), error, says)


def test_anonymize_destroys_the_key_and_the_digests_in_the_same_save(app: App) -> None:
    app.run(create())
    assert CONTACT in app.store._keys

    _, written = app.in_one_save(AnonymizeContact(contact_id=CONTACT))

    assert [type(e) for e in written] == [ContactAnonymized]
    assert CONTACT not in app.store._keys
    assert all(
        app.store.contacts_with_digest(d) == [] for d in digests(JANE["email"], JANE["phone"])
    )
    # every event of the contact reads its person as null now
    created = app.store.history(CONTACT)[0]
    assert isinstance(created, ContactCreated) and created.person is None
    assert contact(app).person is None and contact(app).anonymized
    app.refused(ChangeContact(contact_id=CONTACT, title="x"), RuleViolated, "is anonymized")
    app.refused(AnonymizeContact(contact_id=CONTACT), RuleViolated, "is already anonymized")


def test_an_unknown_contact_is_refused(app: App) -> None:
    app.refused(ChangeContact(contact_id=CONTACT, title="x"), NotFound, "there is no contact")
    app.refused(AnonymizeContact(contact_id=CONTACT), NotFound, "there is no contact")


# --- rights, asked by the bus before the handler ---------------------------------------


def as_user(app: App, login: str, role: str = "rep", team: frozenset[str] = frozenset()) -> Actor:
    app.bus.authorize = authorize
    return Actor(by=login, principal=Principal(login=login, role=role, team=team))  # type: ignore[arg-type]


def test_a_reps_contact_is_theirs_by_default_and_hidden_from_other_reps(app: App) -> None:
    bob = as_user(app, "bob")
    app.bus.execute(create(), actor=bob)
    assert contact(app).owner == "bob"
    before = len(app.store.log)
    with pytest.raises(NotFound, match="there is no contact"):
        app.bus.execute(ChangeContact(contact_id=CONTACT, title="x"), actor=as_user(app, "eve"))
    with pytest.raises(Forbidden, match="a rep may not make a record for 'alice'"):
        app.bus.execute(
            CreateContact(contact_id=uuid5(NAMESPACE, "other"), **JANE, owner="alice"), actor=bob
        )
    with pytest.raises(Forbidden, match="an analyst may not"):
        app.bus.execute(AnonymizeContact(contact_id=CONTACT), actor=as_user(app, "ana", "analyst"))
    assert len(app.store.log) == before
    # the manager of bob changes it
    app.bus.execute(
        ChangeContact(contact_id=CONTACT, title="Buyer"),
        actor=as_user(app, "maria", "manager", frozenset({"bob"})),
    )
    assert contact(app).title == "Buyer"
