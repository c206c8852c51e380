"""HTTP: opportunities — create, read, edit, stages, partners, roles, activities, close, copy.

Every opportunity route of ``adapters/http/routes_sales.py`` (quotes are in
``test_quote_routes.py``): the happy path with the shapes of docs/api.md, and the
refusals (404 unknown id, 422 bad input, 409 rule), each of which writes nothing.
"""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from tests.http.helpers import (
    BAD_ACTIVITIES,
    CLOSE,
    JSON,
    activate,
    add_item,
    changes_nothing,
    command_ok,
    edit_then_delete_activity,
    get_opportunity,
    get_quote,
    is_uuid,
    log_position,
    lost,
    make_account,
    make_opportunity,
    make_quote,
    money,
    opportunity_body,
    query_ok,
    quote_with_item,
    ready_to_sell,
    refused,
    refuses_bad_partners,
    sold,
)
from tests.identity import TEAM

pytestmark = pytest.mark.users(*TEAM)

# The state fields docs/api.md promises for GET /opportunities/{id}.
OPPORTUNITY_FIELDS = {
    "id",
    "version",
    "title",
    "owner",
    "stage",
    "probability",
    "amount",
    "status",
    "locked",
    "active_quote_id",
    "expected_close",
    "forecast_category",
}

# --- create and read ------------------------------------------------------------------


def test_an_opportunity_is_created_and_read_back_in_the_shape_of_the_api(
    client: TestClient,
) -> None:
    # Given the default sales pipeline
    before = log_position(client)
    # When an opportunity is created for a new account, with an amount
    body = opportunity_body(amount=money("1234.50"))
    answer = command_ok(client.post("/opportunities", json=body), 201)
    # Then the answer points at the new opportunity and the log moved on
    assert answer["version"] == 1
    assert answer["position"] > before
    # And the state reads as docs/api.md describes it
    opp = get_opportunity(client, answer["id"])
    assert set(opp) >= OPPORTUNITY_FIELDS
    assert opp["id"] == answer["id"]
    assert opp["version"] == 1
    assert (opp["title"], opp["owner"]) == ("ACME licences", "alice")
    assert (opp["stage"], opp["probability"]) == ("initial_contact", 10)
    assert opp["amount"] == {"amount": "1234.50", "currency": "EUR"}
    assert (opp["status"], opp["locked"], opp["active_quote_id"]) == ("open", False, None)
    assert opp["expected_close"] == CLOSE
    assert opp["forecast_category"] == "pipeline"
    assert is_uuid(opp["account_id"])


def test_an_opportunity_without_amount_is_worth_zero_in_the_reporting_currency(
    client: TestClient,
) -> None:
    opp = get_opportunity(client, make_opportunity(client))
    assert opp["amount"] == {"amount": "0.00", "currency": "EUR"}


def test_an_opportunity_is_created_in_a_stage_with_its_own_probability_and_category(
    client: TestClient,
) -> None:
    # When an opportunity starts in proposal with overrides
    opportunity_id = make_opportunity(
        client, stage="proposal", probability=60, forecast_category="commit", pipeline="sales"
    )
    # Then it reads the stage and the overrides
    opp = get_opportunity(client, opportunity_id)
    assert (opp["stage"], opp["probability"], opp["forecast_category"]) == (
        "proposal",
        60,
        "commit",
    )


def test_an_opportunity_for_an_existing_account_and_partner(client: TestClient) -> None:
    # Given an account and a partner account
    account_id = make_account(client, "Globex")
    partner_id = make_account(client, "Resell Ltd", partner=True)
    # When an opportunity is created for them by id
    opportunity_id = make_opportunity(
        client, account_name=None, account_id=account_id, partner_id=partner_id
    )
    # Then it belongs to them
    opp = get_opportunity(client, opportunity_id)
    assert (opp["account_id"], opp["partner_id"]) == (account_id, partner_id)


@pytest.mark.parametrize(
    "change",
    [
        {"title": None},
        {"title": " "},
        {"title": "x" * 201},
        {"owner": None},
        {"owner": ""},
        {"expected_close": None},
        {"expected_close": "31/03/2027"},
        {"expected_close": "2027-02-30"},
        {"account_name": None},  # neither account_name nor account_id
        {"account_id": str(uuid4())},  # both account_name and account_id
        {"probability": 150},
        {"probability": -1},
        {"probability": 50.5},
        {"probability": "likely"},
        {"forecast_category": "closed"},
        {"amount": "1234.50"},
        {"amount": money("-1.00")},
        {"amount": money("NaN")},
        {"amount": money("1e999")},
        {"amount": money("1e15")},
        {"amount": money("1.00", "EURO")},
        {"amount": money("1.00", "XAU")},
        {"amount": {"amount": "1.00"}},
        {"effective_at": "2027-01-01T00:00:00"},
        {"colour": "blue"},
    ],
)
def test_an_opportunity_with_bad_input_is_refused_as_unprocessable(
    client: TestClient, change: JSON
) -> None:
    body = opportunity_body()
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    refused(client, "POST", "/opportunities", 422, "invalid_input", json=body)


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"stage": "nope"}, 404, "not_found"),
        ({"pipeline": "nope"}, 404, "not_found"),
        ({"account_name": None, "account_id": str(uuid4())}, 404, "not_found"),
        ({"partner_id": str(uuid4())}, 404, "not_found"),
        ({"stage": "won"}, 409, "rule_violated"),  # closed stages are reached by sell/lose
    ],
)
def test_an_opportunity_naming_what_does_not_exist_or_a_closed_stage_is_refused(
    client: TestClient, change: JSON, status: int, error: str
) -> None:
    body = opportunity_body(**change)
    refused(client, "POST", "/opportunities", status, error, json=body)


def test_reading_an_unknown_opportunity_is_not_found(client: TestClient) -> None:
    refused(client, "GET", f"/opportunities/{uuid4()}", 404, "not_found")


def test_reading_a_quote_as_an_opportunity_is_not_found(client: TestClient) -> None:
    quote_id = make_quote(client, make_opportunity(client))
    refused(client, "GET", f"/opportunities/{quote_id}", 404, "not_found")


# --- edit -----------------------------------------------------------------------------


def test_an_opportunity_is_edited_with_only_the_fields_sent(client: TestClient) -> None:
    # Given an opportunity
    opportunity_id = make_opportunity(client, amount=money("100.00"))
    # When several fields are patched
    body = {
        "title": "ACME, 50 seats",
        "amount": money("5000.00"),
        "expected_close": "2027-06-30",
        "owner": "bob",
        "probability": 35,
        "forecast_category": "best_case",
    }
    answer = command_ok(client.patch(f"/opportunities/{opportunity_id}", json=body))
    # Then each reads changed, at the answered version
    opp = get_opportunity(client, opportunity_id)
    assert opp["version"] == answer["version"] > 1
    assert (opp["title"], opp["owner"], opp["expected_close"]) == (
        "ACME, 50 seats",
        "bob",
        "2027-06-30",
    )
    assert opp["amount"] == {"amount": "5000.00", "currency": "EUR"}
    assert (opp["probability"], opp["forecast_category"]) == (35, "best_case")
    # When the probability override is cleared with null
    command_ok(client.patch(f"/opportunities/{opportunity_id}", json={"probability": None}))
    # Then the stage's default applies again, and the untouched fields stay
    opp = get_opportunity(client, opportunity_id)
    assert (opp["probability"], opp["title"]) == (10, "ACME, 50 seats")


def test_a_patch_that_changes_nothing_writes_nothing(client: TestClient) -> None:
    opportunity_id = make_opportunity(client)
    url = f"/opportunities/{opportunity_id}"
    answer = changes_nothing(client, lambda: client.patch(url, json={"owner": "alice"}))
    assert answer["version"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"title": None},
        {"owner": None},
        {"expected_close": None},
        {"amount": None},
        {"title": ""},
        {"probability": 150},
        {"amount": money("-5.00")},
        {"expected_close": "soon"},
        {"forecast_category": "won"},
        {"stage": "proposal"},  # moving is its own route
    ],
)
def test_a_bad_patch_is_refused(client: TestClient, body: JSON) -> None:
    opportunity_id = make_opportunity(client)
    refused(client, "PATCH", f"/opportunities/{opportunity_id}", 422, "invalid_input", json=body)


def test_an_amount_finer_than_its_currency_is_refused_by_the_currency(client: TestClient) -> None:
    # A well-formed decimal with more places than euros have: 409, on create and on edit
    body = {**opportunity_body(), "amount": money("12.345")}
    refused(client, "POST", "/opportunities", 409, "rule_violated", json=body)
    opportunity_id = make_opportunity(client)
    edit = {"amount": money("5.001")}
    refused(client, "PATCH", f"/opportunities/{opportunity_id}", 409, "rule_violated", json=edit)


def test_the_amount_of_an_opportunity_with_an_active_quote_cannot_be_set_by_hand(
    client: TestClient,
) -> None:
    opportunity_id, _ = ready_to_sell(client)
    body = {"amount": money("1.00")}
    refused(client, "PATCH", f"/opportunities/{opportunity_id}", 409, "rule_violated", json=body)


def test_a_sold_opportunity_cannot_be_edited(client: TestClient) -> None:
    opportunity_id, _ = sold(client)
    body = {"title": "Renamed"}
    refused(client, "PATCH", f"/opportunities/{opportunity_id}", 409, "locked", json=body)


def test_a_lost_opportunity_cannot_be_edited_before_it_is_reopened(client: TestClient) -> None:
    opportunity_id = lost(client)
    body = {"title": "Renamed"}
    refused(client, "PATCH", f"/opportunities/{opportunity_id}", 409, "rule_violated", json=body)


def test_patching_an_unknown_opportunity_is_not_found(client: TestClient) -> None:
    refused(client, "PATCH", f"/opportunities/{uuid4()}", 404, "not_found", json={"title": "x"})


# --- delete ---------------------------------------------------------------------------


def test_a_deleted_opportunity_and_its_quotes_are_gone(client: TestClient) -> None:
    # Given an opportunity with a quote
    opportunity_id, quote_id = quote_with_item(client)
    # When it is deleted
    command_ok(client.delete(f"/opportunities/{opportunity_id}"))
    # Then neither it nor its quote can be read, nor deleted again
    refused(client, "GET", f"/opportunities/{opportunity_id}", 404, "not_found")
    refused(client, "GET", f"/quotes/{quote_id}", 404, "not_found")
    refused(client, "DELETE", f"/opportunities/{opportunity_id}", 404, "not_found")


def test_a_sold_opportunity_cannot_be_deleted(client: TestClient) -> None:
    opportunity_id, _ = sold(client)
    refused(client, "DELETE", f"/opportunities/{opportunity_id}", 409, "locked")


def test_deleting_an_unknown_opportunity_is_not_found(client: TestClient) -> None:
    refused(client, "DELETE", f"/opportunities/{uuid4()}", 404, "not_found")


# --- stages ---------------------------------------------------------------------------


def test_an_opportunity_moves_to_a_stage_and_takes_its_probability(client: TestClient) -> None:
    opportunity_id = make_opportunity(client)
    body = {"stage": "negotiation", "effective_at": "2027-01-02T10:00:00+00:00"}
    answer = command_ok(client.post(f"/opportunities/{opportunity_id}/stage", json=body))
    opp = get_opportunity(client, opportunity_id)
    assert (opp["stage"], opp["probability"], opp["forecast_category"]) == (
        "negotiation",
        75,
        "commit",
    )
    assert opp["version"] == answer["version"]
    # And the event carries the business time it took effect
    history = query_ok(client.get(f"/history/{opportunity_id}"))
    assert history[-1]["type"] == "OpportunityMovedToStage"
    assert date.fromisoformat(history[-1]["effective_at"][:10]) == date(2027, 1, 2)


@pytest.mark.parametrize(
    ("stage", "status", "error"),
    [
        ("initial_contact", 409, "rule_violated"),  # already there
        ("won", 409, "rule_violated"),  # closing has its own routes
        ("lost", 409, "rule_violated"),
        ("nope", 404, "not_found"),
    ],
)
def test_a_move_to_the_current_a_closed_or_an_unknown_stage_is_refused(
    client: TestClient, stage: str, status: int, error: str
) -> None:
    opportunity_id = make_opportunity(client)
    url = f"/opportunities/{opportunity_id}/stage"
    refused(client, "POST", url, status, error, json={"stage": stage})


@pytest.mark.parametrize("body", [{}, {"stage": None}, {"stage": 3}, {"stage": ["proposal"]}])
def test_a_move_without_a_stage_name_is_refused(client: TestClient, body: JSON) -> None:
    opportunity_id = make_opportunity(client)
    url = f"/opportunities/{opportunity_id}/stage"
    refused(client, "POST", url, 422, "invalid_input", json=body)


def test_a_sold_opportunity_cannot_change_stage(client: TestClient) -> None:
    opportunity_id, _ = sold(client)
    url = f"/opportunities/{opportunity_id}/stage"
    refused(client, "POST", url, 409, "locked", json={"stage": "proposal"})


def test_moving_an_unknown_opportunity_is_not_found(client: TestClient) -> None:
    url = f"/opportunities/{uuid4()}/stage"
    refused(client, "POST", url, 404, "not_found", json={"stage": "proposal"})


# --- partner, roles, activities ---------------------------------------------------------


def test_a_partner_is_assigned_and_removed(client: TestClient) -> None:
    # Given an opportunity and a partner account
    opportunity_id = make_opportunity(client)
    partner_id = make_account(client, "Resell Ltd", partner=True)
    url = f"/opportunities/{opportunity_id}/partner"
    # When the partner is assigned, then removed
    command_ok(client.post(url, json={"partner_id": partner_id}))
    assert get_opportunity(client, opportunity_id)["partner_id"] == partner_id
    command_ok(client.post(url, json={"partner_id": None}))
    # Then the opportunity has no partner, and removing again is refused
    assert get_opportunity(client, opportunity_id)["partner_id"] is None
    refused(client, "POST", url, 409, "rule_violated", json={"partner_id": None})


def test_an_unknown_partner_is_not_found(client: TestClient) -> None:
    opportunity_id = make_opportunity(client)
    refuses_bad_partners(client, f"/opportunities/{opportunity_id}/partner")


def test_a_business_role_is_added_and_removed(client: TestClient) -> None:
    # Given an opportunity
    opportunity_id = make_opportunity(client)
    # When a business role is added
    body = {"contact": "Jane Roe", "role": "decision maker"}
    answer = command_ok(client.post(f"/opportunities/{opportunity_id}/roles", json=body), 201)
    role_id = answer["role_id"]
    # Then it is listed; the same contact and role twice is refused
    roles = get_opportunity(client, opportunity_id)["business_roles"]
    assert roles == [
        {"id": role_id, "contact": "Jane Roe", "contact_id": None, "role": "decision maker"}
    ]
    url = f"/opportunities/{opportunity_id}/roles"
    refused(client, "POST", url, 409, "rule_violated", json=body)
    # When it is removed, it is gone, and removing it again is not found
    command_ok(client.delete(f"{url}/{role_id}"))
    assert get_opportunity(client, opportunity_id)["business_roles"] == []
    refused(client, "DELETE", f"{url}/{role_id}", 404, "not_found")


@pytest.mark.parametrize(
    "body", [{"contact": " ", "role": "buyer"}, {"contact": "Jane"}, {"role": "buyer"}]
)
def test_a_business_role_needs_a_contact_and_a_role(client: TestClient, body: JSON) -> None:
    opportunity_id = make_opportunity(client)
    url = f"/opportunities/{opportunity_id}/roles"
    refused(client, "POST", url, 422, "invalid_input", json=body)


def test_a_sales_activity_is_logged_edited_and_deleted(client: TestClient) -> None:
    # Given an opportunity
    opportunity_id = make_opportunity(client)
    url = f"/opportunities/{opportunity_id}/activities"
    # When a call is logged
    body = {"kind": "call", "subject": "Intro", "occurred_at": "2027-01-03T15:00:00+01:00"}
    activity_id = command_ok(client.post(url, json=body), 201)["activity_id"]
    # Then it is listed
    [activity] = get_opportunity(client, opportunity_id)["activities"]
    assert (activity["id"], activity["kind"], activity["subject"]) == (activity_id, "call", "Intro")
    # When it is edited, then deleted, it reads back so
    edit_then_delete_activity(
        client, url, activity_id, lambda: get_opportunity(client, opportunity_id)["activities"]
    )


@pytest.mark.parametrize("body", BAD_ACTIVITIES)
def test_a_bad_sales_activity_is_refused(client: TestClient, body: JSON) -> None:
    opportunity_id = make_opportunity(client)
    url = f"/opportunities/{opportunity_id}/activities"
    refused(client, "POST", url, 422, "invalid_input", json=body)


def test_partner_roles_and_activities_of_an_unknown_opportunity_are_not_found(
    client: TestClient,
) -> None:
    base = f"/opportunities/{uuid4()}"
    refused(client, "POST", f"{base}/partner", 404, "not_found", json={"partner_id": None})
    body = {"contact": "Jane", "role": "buyer"}
    refused(client, "POST", f"{base}/roles", 404, "not_found", json=body)
    refused(client, "DELETE", f"{base}/roles/{uuid4()}", 404, "not_found")
    body = {"kind": "call", "subject": "x"}
    refused(client, "POST", f"{base}/activities", 404, "not_found", json=body)
    refused(client, "PATCH", f"{base}/activities/{uuid4()}", 404, "not_found", json=body)
    refused(client, "DELETE", f"{base}/activities/{uuid4()}", 404, "not_found")


# --- sell, unlock ----------------------------------------------------------------------


def test_selling_wins_the_opportunity_and_locks_it_and_its_quotes(client: TestClient) -> None:
    # Given an opportunity whose active quote has an item, and a second quote
    opportunity_id, quote_id = ready_to_sell(client)
    other_quote = make_quote(client, opportunity_id, name="Q2")
    # When it is sold, effective the day before
    body = {"effective_at": "2027-01-03T17:00:00+00:00"}
    answer = command_ok(client.post(f"/opportunities/{opportunity_id}/sell", json=body))
    # Then it is won, locked, at 100 %, with the quote's total as amount
    opp = get_opportunity(client, opportunity_id)
    assert opp["version"] == answer["version"]
    assert (opp["status"], opp["locked"], opp["stage"], opp["probability"]) == (
        "won",
        True,
        "won",
        100,
    )
    assert opp["amount"] == {"amount": "100.00", "currency": "EUR"}
    assert opp["sold_at"].startswith("2027-01-03T17:00:00")
    # And every quote is locked
    assert get_quote(client, quote_id)["locked"] is True
    assert get_quote(client, other_quote)["locked"] is True


def test_selling_without_an_active_quote_is_refused(client: TestClient) -> None:
    opportunity_id, _ = quote_with_item(client)  # the quote is not active
    body = refused(client, "POST", f"/opportunities/{opportunity_id}/sell", 409, "rule_violated")
    assert "active quote" in body["detail"]


def test_selling_with_an_empty_active_quote_is_refused(client: TestClient) -> None:
    opportunity_id = make_opportunity(client)
    activate(client, make_quote(client, opportunity_id))
    refused(client, "POST", f"/opportunities/{opportunity_id}/sell", 409, "rule_violated")


def test_selling_twice_is_refused(client: TestClient) -> None:
    opportunity_id, _ = sold(client)
    refused(client, "POST", f"/opportunities/{opportunity_id}/sell", 409, "locked")


def test_selling_a_lost_opportunity_is_refused(client: TestClient) -> None:
    opportunity_id = lost(client)
    refused(client, "POST", f"/opportunities/{opportunity_id}/sell", 409, "rule_violated")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"effective_at": "2027-02-01T00:00:00+00:00"}, 422),  # in the future
        ({"effective_at": "2027-01-01T00:00:00"}, 422),  # no offset
        ({"effective_at": "last friday"}, 422),
        ({"when": "now"}, 422),
        ([], 422),
        ("now", 422),
    ],
)
def test_a_sale_with_a_bad_body_is_refused(client: TestClient, body: object, status: int) -> None:
    opportunity_id, _ = ready_to_sell(client)
    url = f"/opportunities/{opportunity_id}/sell"
    refused(client, "POST", url, status, "invalid_input", json=body)


def test_selling_an_unknown_opportunity_is_not_found(client: TestClient) -> None:
    refused(client, "POST", f"/opportunities/{uuid4()}/sell", 404, "not_found")


def test_unlocking_reopens_a_sold_opportunity_and_its_quotes(client: TestClient) -> None:
    # Given a sold opportunity
    opportunity_id, quote_id = sold(client)
    # When it is unlocked
    command_ok(client.post(f"/opportunities/{opportunity_id}/unlock"))
    # Then it is open and editable again, its quote too
    opp = get_opportunity(client, opportunity_id)
    assert (opp["status"], opp["locked"]) == ("open", False)
    assert opp["stage"] == "initial_contact"
    assert get_quote(client, quote_id)["locked"] is False
    command_ok(client.patch(f"/opportunities/{opportunity_id}", json={"title": "Renamed"}))


def test_unlocking_an_open_opportunity_is_refused(client: TestClient) -> None:
    opportunity_id = make_opportunity(client)
    refused(client, "POST", f"/opportunities/{opportunity_id}/unlock", 409, "rule_violated")


def test_unlocking_an_unknown_opportunity_is_not_found(client: TestClient) -> None:
    refused(client, "POST", f"/opportunities/{uuid4()}/unlock", 404, "not_found")


# --- lose, unqualified, reopen -----------------------------------------------------------


def test_losing_an_opportunity_closes_it_with_its_reason(client: TestClient) -> None:
    opportunity_id = make_opportunity(client, stage="proposal")
    body = {"reason": "price", "effective_at": "2027-01-02T00:00:00+00:00"}
    command_ok(client.post(f"/opportunities/{opportunity_id}/lose", json=body))
    opp = get_opportunity(client, opportunity_id)
    assert (opp["status"], opp["stage"], opp["probability"], opp["close_reason"]) == (
        "lost",
        "lost",
        0,
        "price",
    )


def test_marking_an_opportunity_unqualified_closes_it(client: TestClient) -> None:
    opportunity_id = make_opportunity(client)
    url = f"/opportunities/{opportunity_id}/unqualified"
    command_ok(client.post(url, json={"reason": "no budget"}))
    opp = get_opportunity(client, opportunity_id)
    assert (opp["status"], opp["stage"], opp["close_reason"]) == (
        "unqualified",
        "unqualified",
        "no budget",
    )


@pytest.mark.parametrize("route", ["lose", "unqualified"])
@pytest.mark.parametrize("body", [{}, {"reason": " "}, {"reason": None}, {"reason": 42}])
def test_closing_without_a_reason_is_refused(client: TestClient, route: str, body: JSON) -> None:
    opportunity_id = make_opportunity(client)
    url = f"/opportunities/{opportunity_id}/{route}"
    refused(client, "POST", url, 422, "invalid_input", json=body)


@pytest.mark.parametrize("route", ["lose", "unqualified"])
def test_closing_a_sold_or_a_closed_opportunity_is_refused(client: TestClient, route: str) -> None:
    sold_id, _ = sold(client)
    url = f"/opportunities/{sold_id}/{route}"
    refused(client, "POST", url, 409, "locked", json={"reason": "late"})
    lost_id = lost(client)
    url = f"/opportunities/{lost_id}/{route}"
    refused(client, "POST", url, 409, "rule_violated", json={"reason": "late"})


@pytest.mark.parametrize("route", ["lose", "unqualified", "reopen"])
def test_closing_or_reopening_an_unknown_opportunity_is_not_found(
    client: TestClient, route: str
) -> None:
    url = f"/opportunities/{uuid4()}/{route}"
    body = None if route == "reopen" else {"reason": "x"}
    refused(client, "POST", url, 404, "not_found", json=body)


def test_a_lost_opportunity_is_reopened_in_the_stage_it_left(client: TestClient) -> None:
    # Given an opportunity lost from negotiation
    opportunity_id = make_opportunity(client, stage="negotiation")
    command_ok(client.post(f"/opportunities/{opportunity_id}/lose", json={"reason": "price"}))
    # When it is reopened
    command_ok(client.post(f"/opportunities/{opportunity_id}/reopen"))
    # Then it is open in negotiation again
    opp = get_opportunity(client, opportunity_id)
    assert (opp["status"], opp["stage"], opp["probability"]) == ("open", "negotiation", 75)


def test_reopening_an_open_or_a_sold_opportunity_is_refused(client: TestClient) -> None:
    open_id = make_opportunity(client)
    refused(client, "POST", f"/opportunities/{open_id}/reopen", 409, "rule_violated")
    sold_id, _ = sold(client)
    refused(client, "POST", f"/opportunities/{sold_id}/reopen", 409, "rule_violated")


# --- copy -----------------------------------------------------------------------------


def test_copying_an_opportunity_copies_its_quotes_and_active_quote(client: TestClient) -> None:
    # Given an opportunity with an active quote holding an item
    source_id, quote_id = ready_to_sell(client)
    # When it is copied with a new title
    answer = command_ok(
        client.post(f"/opportunities/{source_id}/copy", json={"title": "ACME renewal"}), 201
    )
    # Then the copy is a new open opportunity with its own copy of the active quote
    copy = get_opportunity(client, answer["id"])
    assert answer["id"] != source_id
    assert (copy["title"], copy["status"], copy["copied_from"]) == (
        "ACME renewal",
        "open",
        source_id,
    )
    assert copy["active_quote_id"] not in (None, quote_id)
    copied_quote = get_quote(client, copy["active_quote_id"])
    assert copied_quote["opportunity_id"] == answer["id"]
    assert copied_quote["total"] == get_quote(client, quote_id)["total"]
    assert copy["amount"] == {"amount": "100.00", "currency": "EUR"}


def test_copying_without_a_body_names_the_copy_after_its_source(client: TestClient) -> None:
    source_id = make_opportunity(client)
    answer = command_ok(client.post(f"/opportunities/{source_id}/copy"), 201)
    assert get_opportunity(client, answer["id"])["title"] == "ACME licences (copy)"


def test_copying_an_unknown_opportunity_is_not_found(client: TestClient) -> None:
    refused(client, "POST", f"/opportunities/{uuid4()}/copy", 404, "not_found")


def test_a_copy_with_an_unknown_field_is_refused(client: TestClient) -> None:
    source_id = make_opportunity(client)
    url = f"/opportunities/{source_id}/copy"
    refused(client, "POST", url, 422, "invalid_input", json={"name": "x"})


# --- history --------------------------------------------------------------------------


def test_the_history_of_an_opportunity_lists_its_events_in_order(client: TestClient) -> None:
    # Given an opportunity that was created, quoted and moved
    opportunity_id, quote_id = quote_with_item(client)
    body = {"stage": "proposal"}
    command_ok(client.post(f"/opportunities/{opportunity_id}/stage", json=body))
    # When its history is read
    history = query_ok(client.get(f"/history/{opportunity_id}"))
    # Then it lists every event, in version order, in the shape of docs/api.md
    assert [e["version"] for e in history] == list(range(1, len(history) + 1))
    assert [e["type"] for e in history] == [
        "OpportunityCreated",
        "QuoteAdded",
        "OpportunityMovedToStage",
    ]
    for event in history:
        assert set(event) == {
            "version",
            "type",
            "recorded_at",
            "effective_at",
            "actor",
            "correlation_id",
            "causation_id",
            "data",
            "masked",
        }
        assert event["masked"] is False  # an admin reads everything in the clear
        assert event["recorded_at"].startswith("2027-01-04T09:00:00")
        # each written by the admin the client acts as, each request its own
        assert event["actor"] == "admin" and event["causation_id"]
    assert len({e["correlation_id"] for e in history}) == len(history)
    assert history[0]["data"]["title"] == "ACME licences"
    assert history[1]["data"]["quote_id"] == quote_id
    assert history[2]["data"]["stage"] == "proposal"
    # And a quote has its own history
    quote_history = query_ok(client.get(f"/history/{quote_id}"))
    assert [e["type"] for e in quote_history] == ["QuoteCreated", "QuoteItemAdded"]


def test_the_history_of_an_unknown_aggregate_is_not_found(client: TestClient) -> None:
    refused(client, "GET", f"/history/{uuid4()}", 404, "not_found")
    refused(client, "GET", "/history/not-a-uuid", 422, "invalid_input")


def test_an_item_added_to_a_sold_opportunitys_quote_is_refused(client: TestClient) -> None:
    # Given a sold opportunity
    _, quote_id = sold(client)
    # When / Then an item is refused because the quote is locked
    body = {"name": "Extra", "quantity": "1", "unit_price": "1.00"}
    refused(client, "POST", f"/quotes/{quote_id}/items", 409, "locked", json=body)
    # And a helper-made item is still possible after unlocking (sanity of the helper)
    opportunity_id = get_quote(client, quote_id)["opportunity_id"]
    command_ok(client.post(f"/opportunities/{opportunity_id}/unlock"))
    add_item(client, quote_id, name="Extra")
