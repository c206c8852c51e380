"""Users: Given / When / Then against events (domain/user.py)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from domain import user as rules
from domain.aggregate import fold
from domain.errors import InvalidInput, RuleViolated
from domain.user import (
    ApiTokenIssued,
    ApiTokensRevoked,
    User,
    UserAdded,
    UserChanged,
    UserDeactivated,
)
from tests.conftest import T0
from tests.gwt import given

PARTNER = UUID("5b0d8f1e-8c1a-4a57-9f0c-3e6f3c2a9b11")
ALICE = UserAdded(login="alice", name="Alice Adler", role="rep", manager="maria")
MARIA = UserAdded(login="maria", name="Maria Moreau", role="manager")


def user(*events: UserAdded | UserChanged | UserDeactivated | ApiTokenIssued) -> User:
    state = fold(None, events)
    assert state is not None
    return state


def test_adding_a_user_names_them_by_login_and_cleans_the_name() -> None:
    given().when(
        lambda _: rules.add("alice", "rep", name="  Alice   Adler ", manager=user(MARIA))
    ).then(ALICE)


def test_a_user_without_a_name_is_named_by_their_login() -> None:
    given().when(lambda _: rules.add("ops.bot", "analyst")).then(
        UserAdded(login="ops.bot", name="ops.bot", role="analyst")
    )


@pytest.mark.parametrize("login", ["", "Alice", "al ice", "-alice", "a" * 101, "alice!"])
def test_a_login_that_is_not_lower_case_letters_digits_and_dots_is_refused(login: str) -> None:
    given().when(lambda _: rules.add(login, "rep")).then_raises(InvalidInput, "a login is 1 to")


def test_an_unknown_role_is_refused_naming_the_roles() -> None:
    given().when(lambda _: rules.add("alice", "boss")).then_raises(
        InvalidInput, "a role is one of rep, manager, admin, analyst, auditor, partner; not 'boss'."
    )


def test_a_partner_user_needs_a_partner_account_and_no_one_else_has_one() -> None:
    given().when(lambda _: rules.add("pat", "partner")).then_raises(
        RuleViolated, "a partner user needs the partner account they work for."
    )
    given().when(lambda _: rules.add("pat", "rep", partner_id=PARTNER)).then_raises(
        RuleViolated, "only a partner user works for a partner account."
    )
    given().when(lambda _: rules.add("pat", "partner", partner_id=PARTNER)).then(
        UserAdded(login="pat", name="pat", role="partner", partner_id=PARTNER)
    )


def test_only_an_active_manager_or_admin_manages_others() -> None:
    rep = user(UserAdded(login="bob", name="Bob", role="rep"))
    given().when(lambda _: rules.add("alice", "rep", manager=rep)).then_raises(
        RuleViolated, "bob is a rep; only a manager or an admin manages others."
    )
    gone = user(MARIA, UserDeactivated())
    given().when(lambda _: rules.add("alice", "rep", manager=gone)).then_raises(
        RuleViolated, "maria is deactivated and manages no one."
    )


def test_a_user_cannot_come_under_someone_they_are_above() -> None:
    # Given maria above tom (tom's chain: maria)
    tom = user(UserAdded(login="tom", name="Tom", role="manager", manager="maria"))
    # When maria is put under tom
    given(MARIA).when(lambda maria: rules.change(maria, manager=tom, chain=["maria"])).then_raises(
        RuleViolated, "tom cannot manage maria: maria is above them."
    )
    # And nobody manages themselves
    given(MARIA).when(lambda maria: rules.change(maria, manager=maria)).then_raises(
        RuleViolated, "maria cannot manage maria"
    )


def test_a_change_records_the_user_as_they_are_afterwards() -> None:
    sam = user(UserAdded(login="sam", name="Sam", role="manager"))
    given(ALICE).when(lambda alice: rules.change(alice, role="manager", manager=sam)).then(
        UserChanged(name="Alice Adler", role="manager", manager="sam", partner_id=None)
    )
    given(ALICE).when(lambda alice: rules.change(alice, clear_manager=True)).then(
        UserChanged(name="Alice Adler", role="rep", manager=None, partner_id=None)
    )


def test_a_change_that_changes_nothing_records_nothing() -> None:
    given(ALICE).when(lambda alice: rules.change(alice, name="Alice  Adler", role="rep")).then()


def test_leaving_the_partner_role_leaves_the_partner_account() -> None:
    pat = UserAdded(login="pat", name="Pat", role="partner", partner_id=PARTNER)
    given(pat).when(lambda p: rules.change(p, role="rep")).then(
        UserChanged(name="Pat", role="rep", manager=None, partner_id=None)
    )
    given(ALICE).when(lambda alice: rules.change(alice, role="partner")).then_raises(
        RuleViolated, "a partner user needs the partner account they work for."
    )


def test_a_deactivated_user_cannot_be_changed_or_given_a_token() -> None:
    given(ALICE, UserDeactivated()).when(lambda alice: rules.change(alice, name="A")).then_raises(
        RuleViolated, "user alice is deactivated."
    )
    given(ALICE, UserDeactivated()).when(
        lambda alice: rules.issue_token(alice, "ab" * 32, T0, 30)
    ).then_raises(RuleViolated, "user alice is deactivated.")
    given(ALICE, UserDeactivated()).when(rules.deactivate).then_raises(
        RuleViolated, "user alice is deactivated."
    )


def test_a_token_is_valid_until_it_expires_is_revoked_or_its_user_is_deactivated() -> None:
    # Given a token issued for 30 days
    digest = "cd" * 32
    issued = given(ALICE).when(lambda alice: rules.issue_token(alice, digest, T0, 30))
    issued.then(ApiTokenIssued(sha256=digest, expires_at=T0 + timedelta(days=30)))
    alice = issued.then_state()
    # Then it is valid until its expiry, and only that digest is
    assert alice.token_valid(digest, T0 + timedelta(days=30) - timedelta(seconds=1))
    assert not alice.token_valid(digest, T0 + timedelta(days=30))
    assert not alice.token_valid("ef" * 32, T0)
    # And revoking or deactivating ends it at once
    assert not fold(alice, [ApiTokensRevoked()]).token_valid(digest, T0)
    assert not fold(alice, [UserDeactivated()]).token_valid(digest, T0)


@pytest.mark.parametrize("days", [0, -1, 367])
def test_a_token_lasts_one_day_to_a_year(days: int) -> None:
    given(ALICE).when(lambda alice: rules.issue_token(alice, "ab" * 32, T0, days)).then_raises(
        InvalidInput, f"a token lasts 1 to 366 days, not {days}."
    )


def test_revoking_a_users_tokens_when_they_have_none_records_nothing() -> None:
    given(ALICE).when(rules.revoke_tokens).then()
    given(ALICE, ApiTokenIssued(sha256="ab" * 32, expires_at=T0)).when(rules.revoke_tokens).then(
        ApiTokensRevoked()
    )
