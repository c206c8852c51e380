"""Who could see a record at a past instant: the organisation as in effect then (a move
between teams counts from when it took effect, also when recorded after the fact) and
the record's privacy then, on both stores."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

from fastapi.testclient import TestClient

from adapters.bootstrap import Services
from adapters.clock import ManualClock
from adapters.visibility_audit import who_could_see
from commands.opportunities import CreateOpportunity, EditOpportunity
from commands.users import AddUser, ChangeUser
from tests.conftest import T0
from tests.http.helpers import project, services_of
from tests.identity import bearer, user_token


def _project(services: Services) -> None:
    projector = services.projector()
    projector.start()
    projector.catch_up()


def _who(services: Services, deal: object, hours: float) -> set[str]:
    answer = who_could_see(services, deal, T0 + timedelta(hours=hours))  # type: ignore[arg-type]
    return {user["login"] for user in answer["users"]}


def test_visibility_as_of_before_a_move_answers_the_old_team(
    services: Services, clock: ManualClock
) -> None:
    # Given maria's and tom's teams, alice in maria's, and alice's deal (day 0)
    bus = services.bus
    for login, role in (("maria", "manager"), ("tom", "manager"), ("audrey", "auditor")):
        bus.execute(AddUser(login=login, role=role))
    bus.execute(AddUser(login="alice", role="rep", manager="maria"))
    clock.advance(timedelta(hours=1))
    deal = uuid4()
    bus.execute(
        CreateOpportunity(
            opportunity_id=deal,
            title="ACME",
            owner="alice",
            expected_close=date(2027, 6, 30),
            account_name="ACME",
        )
    )
    # When alice moves to tom's team on day 2
    clock.set(T0 + timedelta(days=2))
    bus.execute(ChangeUser(login="alice", manager="tom"))
    # and, recorded on day 4, she went back to maria's on day 3 at noon
    clock.set(T0 + timedelta(days=4))
    bus.execute(ChangeUser(login="alice", manager="maria", effective_at=T0 + timedelta(days=3.5)))
    # and on day 5 she makes the deal private
    clock.set(T0 + timedelta(days=5))
    bus.execute(EditOpportunity(opportunity_id=deal, private=True))
    _project(services)
    # Then as of day 1 her old team's manager could see it, not tom
    assert _who(services, deal, 24) == {"alice", "maria", "audrey"}
    # as of day 3 (after the move) tom could, not maria
    assert _who(services, deal, 72) == {"alice", "tom", "audrey"}
    # as of day 3.75, by the move recorded after the fact, maria again
    assert _who(services, deal, 90) == {"alice", "maria", "audrey"}
    # once private, no manager: its owner and the auditor only
    assert _who(services, deal, 5 * 24 + 1) == {"alice", "audrey"}
    # and before it was made, nobody: it did not exist
    before = who_could_see(services, deal, T0)
    assert (before["existed"], before["users"]) == (False, [])


def test_an_auditor_asks_who_could_see_a_record_over_http(client: TestClient) -> None:
    services = services_of(client)
    auditor = bearer(user_token(services, "audrey", "auditor"))
    rep = bearer(user_token(services, "alice", "rep"))
    made = client.post(
        "/opportunities",
        json={
            "title": "ACME",
            "owner": "alice",
            "expected_close": "2027-06-30",
            "account_name": "ACME",
        },
    )
    deal = str(made.json()["id"])
    project(client)
    answer = client.get(f"/audit/visibility/{deal}", headers=auditor)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["kind"], body["existed"]) == ("opportunity", True)
    assert {u["login"] for u in body["users"]} == {"admin", "alice", "audrey"}
    # A rep may not ask (403); an unknown id is 404; a bad instant 422
    assert client.get(f"/audit/visibility/{deal}", headers=rep).status_code == 403
    assert client.get(f"/audit/visibility/{uuid4()}", headers=auditor).status_code == 404
    bad = client.get(f"/audit/visibility/{deal}", params={"as_of": "yesterday"}, headers=auditor)
    assert bad.status_code == 422, bad.text
