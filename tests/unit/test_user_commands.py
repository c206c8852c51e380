"""User commands through ``CommandBus`` on the in-memory store (commands/users.py).

Users are found by login; a login in a body that names no one is a mistake in the
request (422), a login in a path that names no one is not found (404); the manager
chain never loops; refusals write nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from commands.bus import CommandBus, Outcome
from commands.handlers import all_handlers
from commands.users import AddUser, ChangeUser, DeactivateUser, IssueApiToken, RevokeApiTokens
from domain.errors import AlreadyExists, DomainError, NotFound, RuleViolated
from domain.ids import user_id_for
from domain.user import ApiTokenIssued, NotAnActiveUser, User, UserAdded, UserChanged
from tests.conftest import T0
from tests.fakes import FixedClock, InMemoryEventStore


class Org:
    def __init__(self) -> None:
        self.store = InMemoryEventStore()
        self.bus = CommandBus(
            self.store, FixedClock(T0), handlers=all_handlers(), reporting_currency="EUR"
        )

    def run(self, command: Any) -> Outcome:
        return self.bus.execute(command)

    def refused(self, command: Any, error: type[DomainError], sentence: str) -> None:
        """``command`` is refused with ``sentence`` and writes nothing."""
        before = len(self.store.log)
        with pytest.raises(error) as caught:
            self.run(command)
        assert caught.value.detail == sentence
        assert len(self.store.log) == before

    def user(self, login: str) -> User:
        state = self.store.load(user_id_for(login))
        assert isinstance(state, User)
        return state


@pytest.fixture
def org() -> Org:
    # Given an admin, a manager under them and a rep under the manager
    org = Org()
    org.run(AddUser(login="ada", role="admin", name="Ada Admin"))
    org.run(AddUser(login="maria", role="manager", manager="ada"))
    org.run(AddUser(login="alice", role="rep", manager="maria"))
    return org


def test_adding_a_user_creates_them_under_the_id_of_their_login(org: Org) -> None:
    # When a user is added
    outcome = org.run(AddUser(login="bob", role="rep", name="Bob Baker", manager="maria"))
    # Then their id is their login's, and the event says who they are
    assert outcome.id == user_id_for("bob") and outcome.created
    [event] = org.store.history(outcome.id)
    assert isinstance(event, UserAdded)
    assert (event.login, event.name, event.role, event.manager) == (
        "bob",
        "Bob Baker",
        "rep",
        "maria",
    )


def test_a_login_is_taken_once(org: Org) -> None:
    org.refused(
        AddUser(login="alice", role="rep"),
        AlreadyExists,
        f"there is already a user 'alice' ({user_id_for('alice')}).",
    )


def test_a_manager_who_is_no_user_is_refused(org: Org) -> None:
    org.refused(
        AddUser(login="bob", role="rep", manager="nobody"),
        NotAnActiveUser,
        "there is no user 'nobody'.",
    )


def test_changing_an_unknown_user_is_not_found(org: Org) -> None:
    org.refused(ChangeUser(login="nobody", name="N"), NotFound, "there is no user 'nobody'.")
    org.refused(DeactivateUser(login="nobody"), NotFound, "there is no user 'nobody'.")
    org.refused(RevokeApiTokens(login="nobody"), NotFound, "there is no user 'nobody'.")


def test_the_manager_chain_never_loops(org: Org) -> None:
    # Given ada above maria above tom
    org.run(AddUser(login="tom", role="manager", manager="maria"))
    # When ada is put under tom (two levels below her)
    org.refused(
        ChangeUser(login="ada", manager="tom"),
        RuleViolated,
        "tom cannot manage ada: ada is above them.",
    )
    # Then a move that makes no loop is taken
    org.run(ChangeUser(login="tom", manager="ada"))
    assert org.user("tom").manager == "ada"


def test_a_change_effective_in_the_past_is_recorded_with_that_instant(org: Org) -> None:
    # When alice becomes a manager as of a week ago
    week_ago = T0 - timedelta(days=7)
    org.run(ChangeUser(login="alice", role="manager", clear_manager=True, effective_at=week_ago))
    # Then the user is as the change says, from that instant, recorded now
    alice = org.user("alice")
    assert (alice.role, alice.manager) == ("manager", None)
    changed = org.store.history(alice.id)[-1]
    assert isinstance(changed, UserChanged)
    assert (changed.effective_at, changed.recorded_at) == (week_ago, T0)


def test_a_token_is_kept_as_its_digest_with_its_expiry(org: Org) -> None:
    org.run(IssueApiToken(login="alice", sha256="ab" * 32, days=30))
    [issued] = [e for e in org.store.history(user_id_for("alice")) if isinstance(e, ApiTokenIssued)]
    assert (issued.sha256, issued.expires_at) == ("ab" * 32, T0 + timedelta(days=30))
    assert org.user("alice").token_valid("ab" * 32, T0)
    # And revoking ends it
    org.run(RevokeApiTokens(login="alice"))
    assert not org.user("alice").token_valid("ab" * 32, T0)


def test_a_deactivated_user_gets_no_token_and_manages_no_one(org: Org) -> None:
    org.run(DeactivateUser(login="maria"))
    org.refused(
        IssueApiToken(login="maria", sha256="ab" * 32, days=1),
        RuleViolated,
        "user maria is deactivated.",
    )
    org.refused(
        AddUser(login="bob", role="rep", manager="maria"),
        RuleViolated,
        "maria is deactivated and manages no one.",
    )
