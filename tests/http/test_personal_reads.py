"""A lead's personal data as each role reads it: masked (null, ``masked: true``) for
analysts and auditors, in the clear for the others — and every answer that shows it in the
clear leaves one access-log entry per lead it shows (who, when, the route, the request id),
read back through ``GET /audit/access``. Real users, real tokens."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.ids import account_id_for
from tests.conftest import T0
from tests.http.helpers import command_ok, make_opportunity, project, query_ok, services_of
from tests.identity import bearer, user_token

PERSONAL = ("first_name", "last_name", "email", "phone", "address", "notes")
ADA = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.org",
    "phone": "+44 20 7946 0000",
    "notes": "prefers mornings",
}
ROLES = ("admin", "manager", "rep", "partner", "analyst", "auditor")
MASKED = {"analyst", "auditor"}


class People:
    """An organisation (maria manages alice; an analyst, an auditor, a partner user pat of
    Partner Co) and two leads with personal data and an activity: alice's, and one assigned
    to Partner Co."""

    def __init__(self, client: TestClient) -> None:
        services = services_of(client)
        self.client = client
        assert client.post("/accounts", json={"name": "Partner Co", "partner": True}).is_success
        partner = account_id_for("Partner Co")
        self.logins = {
            "admin": "admin",
            "manager": "maria",
            "rep": "alice",
            "partner": "pat",
            "analyst": "ana",
            "auditor": "audrey",
        }
        fields: dict[str, dict[str, Any]] = {
            "rep": {"manager": "maria"},
            "partner": {"partner_id": partner},
        }
        self.tokens = {"admin": dict(client.headers)}
        for role, login in self.logins.items():
            if role != "admin":
                token = user_token(services, login, role, **fields.get(role, {}))
                self.tokens[role] = bearer(token)
        self.alices = self._lead(owner="alice")
        self.partners = self._lead()
        command_ok(
            client.post(f"/leads/{self.partners}/partner", json={"partner_id": str(partner)})
        )
        project(client)

    def _lead(self, **fields: Any) -> str:
        lead_id = str(command_ok(self.client.post("/leads", json={**ADA, **fields}), 201)["id"])
        activity = {"kind": "call", "subject": "Intro with Ada", "notes": "asked about prices"}
        command_ok(self.client.post(f"/leads/{lead_id}/activities", json=activity))
        return lead_id

    def lead_of(self, role: str) -> str:
        return self.partners if role == "partner" else self.alices

    def read(self, role: str, url: str, request_id: str = "req-1", **params: Any) -> Any:
        headers = {**self.tokens[role], "X-Request-ID": request_id}
        return self.client.get(url, headers=headers, params=params)

    def accesses(self, record: str) -> list[dict[str, Any]]:
        """The access log of ``record``, as an auditor reads it."""
        page = query_ok(self.read("auditor", "/audit/access", record=record, limit=500))
        assert page["next_cursor"] is None
        items: list[dict[str, Any]] = page["items"]
        return items


@pytest.mark.parametrize("role", ROLES)
def test_a_lead_reads_masked_for_analysts_and_auditors_and_logged_for_the_others(
    client: TestClient, role: str
) -> None:
    # Given a lead the role may see
    people = People(client)
    lead_id = people.lead_of(role)
    # When the role reads it
    lead = query_ok(people.read(role, f"/leads/{lead_id}", request_id=f"read-by-{role}"))
    entries = people.accesses(lead_id)
    if role in MASKED:
        # Then its personal data reads null, says so, and no one's data was read
        assert {name: lead[name] for name in PERSONAL} == dict.fromkeys(PERSONAL)
        assert (lead["extra"], lead["masked"], lead["anonymized"]) == (None, True, False)
        assert [(a["subject"], a["notes"]) for a in lead["activities"]] == [(None, None)]
        assert entries == []
    else:
        # Then it reads in the clear, and the access log says who read it, when, how
        assert {name: lead[name] for name in ("first_name", "email", "notes")} == {
            "first_name": "Ada",
            "email": "ada@example.org",
            "notes": "prefers mornings",
        }
        assert lead["masked"] is False
        assert lead["activities"][0]["subject"] == "Intro with Ada"
        assert entries == [
            {
                "record_id": lead_id,
                "by": people.logins[role],
                "at": T0.isoformat(),
                "route": "GET /leads/{lead_id}",
                "request_id": f"read-by-{role}",
            }
        ]


def test_the_lead_list_logs_each_lead_it_shows_and_masks_for_an_analyst(
    client: TestClient,
) -> None:
    # Given the two leads and a third one, anonymized
    people = People(client)
    erased = people._lead()
    command_ok(client.post(f"/leads/{erased}/anonymize"))
    project(client)
    # When an admin lists the leads
    listed = query_ok(people.read("admin", "/leads", request_id="list-1"))["items"]
    # Then each shows its data but the anonymized one, and each one shown is logged once
    shown = {lead["id"]: (lead["first_name"], lead["masked"]) for lead in listed}
    assert shown == {
        people.alices: ("Ada", False),
        people.partners: ("Ada", False),
        erased: (None, False),
    }
    for lead_id in (people.alices, people.partners):
        assert [(e["route"], e["request_id"]) for e in people.accesses(lead_id)] == [
            ("GET /leads", "list-1")
        ]
    assert people.accesses(erased) == []
    # When an analyst lists them, then every personal field is null, masked, not logged
    masked = query_ok(people.read("analyst", "/leads", request_id="list-2"))["items"]
    assert all(lead["masked"] is True for lead in masked)
    assert all(lead[name] is None for lead in masked for name in PERSONAL[:5])
    # (whether a lead is anonymized still shows)
    assert {lead["id"]: lead["anonymized"] for lead in masked} == {
        people.alices: False,
        people.partners: False,
        erased: True,
    }
    assert [e["request_id"] for e in people.accesses(people.alices)] == ["list-1"]


def test_a_page_of_leads_logs_only_the_leads_it_shows(client: TestClient) -> None:
    # Given two leads an admin may read
    people = People(client)
    project(client)
    first, second = people.alices, people.partners
    # When the admin reads the first page of one lead, newest first
    page = query_ok(people.read("admin", "/leads", request_id="page-1", sort="-created", limit=1))
    # Then only that lead is shown, and only it is logged
    assert [lead["id"] for lead in page["items"]] == [second]
    assert [e["request_id"] for e in people.accesses(second)] == ["page-1"]
    assert people.accesses(first) == []
    # And the next page shows and logs the other one
    cursor = page["next_cursor"]
    page = query_ok(
        people.read("admin", "/leads", request_id="page-2", sort="-created", cursor=cursor, limit=1)
    )
    assert ([lead["id"] for lead in page["items"]], page["next_cursor"]) == ([first], None)
    assert [e["request_id"] for e in people.accesses(first)] == ["page-2"]


def test_history_of_a_lead_is_masked_for_an_auditor_and_logged_for_the_others(
    client: TestClient,
) -> None:
    people = People(client)
    # When an auditor reads the lead's history
    audited = query_ok(people.read("auditor", f"/history/{people.alices}"))
    # Then the personal fields of every event read null, masked, and nothing is logged
    by_type = {e["type"]: e for e in audited}
    assert all(e["masked"] is True for e in audited)
    assert by_type["LeadCreated"]["data"]["personal"] is None
    logged = by_type["LeadActivityLogged"]["data"]
    assert (logged["subject"], logged["notes"]) == (None, None)
    assert people.accesses(people.alices) == []
    # When its owner reads it, then it shows in the clear and the read is logged
    owned = query_ok(people.read("rep", f"/history/{people.alices}", request_id="hist-1"))
    assert all(e["masked"] is False for e in owned)
    assert owned[0]["data"]["personal"]["last_name"] == "Lovelace"
    assert {e["type"]: e["data"].get("subject") for e in owned}["LeadActivityLogged"] == (
        "Intro with Ada"
    )
    assert [(e["by"], e["route"], e["request_id"]) for e in people.accesses(people.alices)] == [
        ("alice", "GET /history/{aggregate_id}", "hist-1")
    ]


def test_an_answer_with_no_personal_data_in_the_clear_is_not_logged(client: TestClient) -> None:
    people = People(client)
    deal = make_opportunity(client, owner="alice")
    erased = people._lead()
    command_ok(client.post(f"/leads/{erased}/anonymize"))
    bob = bearer(user_token(services_of(client), "bob", "rep"))
    # When records without personal data (an opportunity's history, an anonymized lead and
    # its history) are read, and a rep asks for a lead that is not theirs
    assert people.read("admin", f"/history/{deal}").status_code == 200
    assert query_ok(people.read("admin", f"/leads/{erased}"))["last_name"] is None
    assert people.read("admin", f"/history/{erased}").status_code == 200
    hidden = client.get(f"/leads/{people.alices}", headers=bob)
    assert hidden.status_code == 404
    # Then nothing was shown, and nothing is logged
    for record in (deal, erased, people.alices):
        assert people.accesses(record) == []
