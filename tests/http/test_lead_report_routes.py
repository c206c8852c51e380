"""The lead report routes: GET /leads, /leads/summary, /campaigns and /campaigns/report
(filters, as of, wait_for, personal data opened or erased).

Leads are written through the command bus (the lead command routes are tested on their
own); the projector is caught up by ``sync`` unless the test is about ``wait_for``. Most
tests run on the embedded store (``client``); the key ones also on PostgreSQL
(``any_client``).

The seeded leads, a minute apart (T0 = 2027-01-04 09:00 UTC):

    lead    person              company  source    campaign  owner  then
    ada     Ada Lovelace        ACME     web       Spring    alice  qualified (opportunity)
    bob     Bob Byte            Globex   fair      Spring    —      (the free pool)
    cyd     Cyd Charisse        Initech  web       Autumn    bob    disqualified (junk), archived
    dee     Dee Dee Ramone      —        —         —         carol  anonymized
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from adapters.clock import ManualClock
from adapters.http.paging import make_key_cursor
from commands.campaigns import ArchiveCampaign, CreateCampaign
from commands.leads import (
    AnonymizeLead,
    ArchiveLead,
    CreateLead,
    DisqualifyLead,
    EditLead,
    QualifyLead,
)
from tests.conftest import T0
from tests.http.helpers import (
    JSON,
    as_of,
    assert_error,
    every_page,
    log_position,
    project,
    query_ok,
    services_of,
    summary_rows,
)
from tests.identity import TEAM

pytestmark = pytest.mark.users(*TEAM)

PERSONAL = ("first_name", "last_name", "email", "phone", "address")
LEAD_COLUMNS = ("first_name", "last_name", "company", "source", "campaign_id", "owner")
ADA_CONTACT = {
    "email": "ada@example.com",
    "phone": "+44 20 7946 0001",
    "address": "12 St James's Square, London",
}


@dataclass
class Seed:
    spring: str
    autumn: str
    ada: str
    bob: str
    cyd: str
    dee: str
    opportunity: str
    before_anonymize: int  # the log position just before dee was anonymized
    before_qualify: int


def execute(client: TestClient, clock: ManualClock, command: Any) -> int:
    services = services_of(client)
    services.bus.execute(command)
    clock.advance(timedelta(minutes=1))
    return services.store.max_position()


def new_lead(client: TestClient, clock: ManualClock, **fields: Any) -> str:
    lead_id = uuid4()
    execute(client, clock, CreateLead(lead_id=lead_id, **fields))
    return str(lead_id)


def seed(client: TestClient, clock: ManualClock) -> Seed:
    spring, autumn = uuid4(), uuid4()
    execute(client, clock, CreateCampaign(campaign_id=spring, name="Spring", channel="email"))
    execute(client, clock, CreateCampaign(campaign_id=autumn, name="Autumn"))
    # The leads of the table in the module docstring, a minute apart, and what else each gave
    people = [
        ("Ada", "Lovelace", "ACME", "web", spring, "alice", ADA_CONTACT),
        ("Bob", "Byte", "Globex", "fair", spring, None, {}),
        ("Cyd", "Charisse", "Initech", "web", autumn, "bob", {}),
        ("Dee Dee", "Ramone", None, None, None, "carol", {"email": "dee@example.com"}),
    ]
    ada, bob, cyd, dee = (
        new_lead(client, clock, **dict(zip(LEAD_COLUMNS, person, strict=True)), **contact)
        for *person, contact in people
    )
    before_qualify = services_of(client).store.max_position()
    opportunity = uuid4()
    execute(
        client,
        clock,
        QualifyLead(
            lead_id=UUID(ada),
            opportunity_id=opportunity,
            title="ACME rollout",
            expected_close=date(2027, 6, 30),
        ),
    )
    execute(client, clock, DisqualifyLead(lead_id=UUID(cyd), status="junk", reason="spam"))
    execute(client, clock, ArchiveLead(lead_id=UUID(cyd)))
    before_anonymize = services_of(client).store.max_position()
    execute(client, clock, AnonymizeLead(lead_id=UUID(dee)))
    project(client)
    return Seed(
        spring=str(spring),
        autumn=str(autumn),
        ada=ada,
        bob=bob,
        cyd=cyd,
        dee=dee,
        opportunity=str(opportunity),
        before_anonymize=before_anonymize,
        before_qualify=before_qualify,
    )


@pytest.fixture
def seeded(client: TestClient, clock: ManualClock) -> Iterator[Seed]:
    yield seed(client, clock)


def page(client: TestClient, **params: Any) -> JSON:
    body = query_ok(client.get("/leads", params=params))
    assert isinstance(body, dict)
    return body


def listed(client: TestClient, **params: Any) -> list[JSON]:
    """The leads of one page (the first, unless a cursor says another)."""
    items: list[JSON] = page(client, **params)["items"]
    return items


def ids(leads: list[JSON]) -> list[str]:
    return [lead["id"] for lead in leads]


def by_id(leads: list[JSON]) -> dict[str, JSON]:
    return {lead["id"]: lead for lead in leads}


# --- GET /leads -----------------------------------------------------------------------------


def check_list(client: TestClient, s: Seed) -> None:
    everything = listed(client)
    assert ids(everything) == [s.ada, s.bob, s.cyd, s.dee]  # oldest first
    leads = by_id(everything)
    ada = leads[s.ada]
    assert {k: ada[k] for k in PERSONAL} == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": "+44 20 7946 0001",
        "address": "12 St James's Square, London",
    }
    assert (ada["status"], ada["owner"], ada["opportunity_id"], ada["anonymized"]) == (
        "qualified",
        "alice",
        s.opportunity,
        False,
    )
    assert (ada["source"], ada["campaign_id"], ada["company"], ada["channel"]) == (
        "web",
        s.spring,
        "ACME",
        "manual",
    )
    assert ada["account_id"] is not None and ada["created_at"].startswith("2027-01-04T09:02")
    assert "personal_sealed" not in ada and "notes" not in ada
    bob = leads[s.bob]
    assert (bob["owner"], bob["partner_id"], bob["pool"], bob["email"]) == (None, None, True, None)
    assert bob["first_name"] == "Bob" and bob["anonymized"] is False
    cyd = leads[s.cyd]
    assert (cyd["status"], cyd["disqualified_as"], cyd["archived"]) == (
        "disqualified",
        "junk",
        True,
    )
    dee = leads[s.dee]
    assert {k: dee[k] for k in PERSONAL} == dict.fromkeys(PERSONAL)
    assert (dee["anonymized"], dee["owner"], dee["status"]) == (True, "carol", "new")

    # each filter
    assert ids(listed(client, status="qualified")) == [s.ada]
    assert ids(listed(client, status="new")) == [s.bob, s.dee]
    assert ids(listed(client, source="web")) == [s.ada, s.cyd]
    assert ids(listed(client, campaign_id=s.spring)) == [s.ada, s.bob]
    assert ids(listed(client, owner="bob")) == [s.cyd]
    assert ids(listed(client, pool="true")) == [s.bob]
    assert ids(listed(client, pool="false")) == [s.ada, s.cyd, s.dee]
    assert ids(listed(client, archived="true")) == [s.cyd]
    assert ids(listed(client, archived="false")) == [s.ada, s.bob, s.dee]
    assert ids(listed(client, anonymized="true")) == [s.dee]
    assert ids(listed(client, source="web", campaign_id=s.spring)) == [s.ada]
    # pages: each ends with the cursor of the next, the last with none
    first = page(client, limit=2)
    assert ids(first["items"]) == [s.ada, s.bob]
    second = page(client, limit=2, cursor=first["next_cursor"])
    assert (ids(second["items"]), second["next_cursor"]) == ([s.cyd, s.dee], None)
    assert page(client, limit=4)["next_cursor"] is None


def test_leads_are_listed_with_their_personal_data_and_filtered(
    client: TestClient, seeded: Seed
) -> None:
    check_list(client, seeded)


def test_leads_are_listed_and_filtered_alike_on_both_stores(
    any_client: TestClient, clock: ManualClock
) -> None:
    check_list(any_client, seed(any_client, clock))


def test_the_list_says_the_position_it_reflects(client: TestClient, seeded: Seed) -> None:
    # Given the read model caught up
    position = services_of(client).queries.tracked()
    # When the list is asked for now, Then its as_of says the read model's position
    now, recorded_at = as_of(client, "/leads")
    assert (now, recorded_at[:15]) == (position, "2027-01-04T09:0")
    # and as of a position, that position; the campaigns say theirs too
    assert as_of(client, "/leads", as_of=seeded.before_qualify)[0] == seeded.before_qualify
    assert as_of(client, "/campaigns")[0] == position


def test_as_of_shows_the_leads_as_they_stood(client: TestClient, seeded: Seed) -> None:
    # Before the qualification and the disqualification: everyone new, nobody archived
    then = by_id(listed(client, as_of=str(seeded.before_qualify)))
    assert {lead["status"] for lead in then.values()} == {"new"}
    assert then[seeded.ada]["opportunity_id"] is None and not then[seeded.cyd]["archived"]
    # As of an instant: two minutes after the first lead, the first two leads only
    moment = (T0 + timedelta(minutes=3, seconds=30)).isoformat()
    assert ids(listed(client, as_of=moment)) == [seeded.ada, seeded.bob]
    # Filters apply to the leads as they stood
    assert ids(listed(client, status="new", as_of=str(seeded.before_qualify))) == [
        seeded.ada,
        seeded.bob,
        seeded.cyd,
        seeded.dee,
    ]
    assert listed(client, archived="true", as_of=str(seeded.before_qualify)) == []

    # When a lead's details change later, a list as of before shows the old ones
    before = log_position(client)
    services_of(client).bus.execute(EditLead(lead_id=UUID(seeded.bob), source="referral"))
    project(client)
    assert by_id(listed(client))[seeded.bob]["source"] == "referral"
    assert by_id(listed(client, as_of=str(before)))[seeded.bob]["source"] == "fair"


def check_anonymized(client: TestClient, s: Seed) -> None:
    for params in ({}, {"as_of": str(s.before_anonymize)}):
        dee = by_id(listed(client, **params))[s.dee]
        # the version before anonymize still holds the sealed data, but the key is gone
        assert {k: dee[k] for k in PERSONAL} == dict.fromkeys(PERSONAL), params
        assert dee["anonymized"] is True, params
        assert dee["owner"] == "carol"
    # Filtering by the flag: before the anonymize it was not anonymized yet
    assert ids(listed(client, anonymized="true", as_of=str(s.before_anonymize))) == []
    # and the others still read
    assert by_id(listed(client, as_of=str(s.before_anonymize)))[s.ada]["first_name"] == "Ada"


def test_an_anonymized_lead_is_listed_with_null_personal_data_now_and_as_of_before(
    any_client: TestClient, clock: ManualClock
) -> None:
    check_anonymized(any_client, seed(any_client, clock))


def test_the_lead_and_campaign_paths_still_reach_the_lead_routes(
    client: TestClient, seeded: Seed
) -> None:
    # /leads/summary and /campaigns/report are not taken for ids, and ids still work
    assert query_ok(client.get("/leads/summary"))["by"] == "status"
    assert "rows" in query_ok(client.get("/campaigns/report"))
    assert query_ok(client.get(f"/leads/{seeded.ada}"))["id"] == seeded.ada
    assert query_ok(client.get(f"/campaigns/{seeded.spring}"))["id"] == seeded.spring


# --- summary, campaigns, report ---------------------------------------------------------------


def test_the_summary_counts_leads_by_each_grouping(client: TestClient, seeded: Seed) -> None:
    def rows(by: str, **params: Any) -> list[JSON]:
        return summary_rows(client, "/leads/summary", by, **params)

    assert rows("status") == [
        {"status": "disqualified", "count": 1},
        {"status": "new", "count": 2},
        {"status": "qualified", "count": 1},
    ]
    assert rows("source") == [
        {"source": None, "count": 1},
        {"source": "fair", "count": 1},
        {"source": "web", "count": 2},
    ]
    campaigns = sorted([seeded.spring, seeded.autumn])
    spring_first = campaigns[0] == seeded.spring
    assert rows("campaign") == [
        {"campaign": None, "count": 1},
        {"campaign": campaigns[0], "count": 2 if spring_first else 1},
        {"campaign": campaigns[1], "count": 1 if spring_first else 2},
    ]
    assert rows("owner") == [
        {"owner": None, "count": 1},
        {"owner": "alice", "count": 1},
        {"owner": "bob", "count": 1},
        {"owner": "carol", "count": 1},
    ]
    # with filters, and as of a position
    assert rows("status", campaign_id=seeded.spring) == [
        {"status": "new", "count": 1},
        {"status": "qualified", "count": 1},
    ]
    assert rows("owner", pool="true") == [{"owner": None, "count": 1}]
    assert rows("status", as_of=str(seeded.before_qualify)) == [{"status": "new", "count": 4}]


def test_campaigns_are_listed_and_reported_with_their_conversion(
    any_client: TestClient, clock: ManualClock
) -> None:
    client = any_client
    s = seed(client, clock)
    campaigns = query_ok(client.get("/campaigns", params={"sort": "name"}))
    assert campaigns["next_cursor"] is None
    assert campaigns["items"] == [
        {
            "id": s.autumn,
            "name": "Autumn",
            "channel": None,
            "starts_on": None,
            "ends_on": None,
            "archived": False,
        },
        {
            "id": s.spring,
            "name": "Spring",
            "channel": "email",
            "starts_on": None,
            "ends_on": None,
            "archived": False,
        },
    ]
    report = query_ok(client.get("/campaigns/report"))
    assert report["as_of"]["position"] == services_of(client).queries.tracked()
    assert report["rows"] == [
        {
            "campaign_id": s.autumn,
            "name": "Autumn",
            "archived": False,
            "leads": 1,
            "qualified": 0,
            "disqualified": 1,
            "conversion": "0.0000",
            "opportunities": 0,
        },
        {
            "campaign_id": s.spring,
            "name": "Spring",
            "archived": False,
            "leads": 2,
            "qualified": 1,
            "disqualified": 0,
            "conversion": "0.5000",
            "opportunities": 1,
        },
    ]
    # as of before the qualification: no conversion yet, no opportunity
    then = query_ok(client.get("/campaigns/report", params={"as_of": s.before_qualify}))
    spring = next(row for row in then["rows"] if row["name"] == "Spring")
    assert (
        spring["leads"],
        spring["qualified"],
        spring["conversion"],
        spring["opportunities"],
    ) == (
        2,
        0,
        "0.0000",
        0,
    )
    # an archived campaign stays in the report; as of before, it was not archived
    before_archive = log_position(client)
    services_of(client).bus.execute(ArchiveCampaign(campaign_id=UUID(s.autumn)))
    project(client)
    archived = query_ok(client.get("/campaigns", params={"archived": "true"}))["items"]
    assert [c["name"] for c in archived] == ["Autumn"]
    now = query_ok(client.get("/campaigns/report", params={"archived": "true"}))["rows"]
    assert [(row["name"], row["leads"]) for row in now] == [("Autumn", 1)]
    earlier = query_ok(client.get("/campaigns", params={"as_of": before_archive}))["items"]
    assert [c["archived"] for c in earlier] == [False, False]
    # a campaign with no leads has no conversion
    execute(client, clock, CreateCampaign(campaign_id=uuid4(), name="Winter"))
    project(client)
    winter = next(
        r for r in query_ok(client.get("/campaigns/report"))["rows"] if r["name"] == "Winter"
    )
    assert (winter["leads"], winter["conversion"], winter["opportunities"]) == (0, None, 0)


# --- paging ---------------------------------------------------------------------------------

LEAD_SORTS = ("created", "created_at", "updated_at", "status")
CAMPAIGN_SORTS = ("created", "name", "starts_on", "ends_on")


def reverse(sort: str) -> str:
    return sort[1:] if sort.startswith("-") else f"-{sort}"


def test_paging_the_leads_by_cursor_gives_each_order_whole(
    any_client: TestClient, clock: ManualClock
) -> None:
    client = any_client
    # Given the four leads (created a minute apart; ada, cyd and dee changed since)
    s = seed(client, clock)
    # Then by default they come in the order they were made
    assert ids(listed(client)) == [s.ada, s.bob, s.cyd, s.dee]
    for sort in (*LEAD_SORTS, *map(reverse, LEAD_SORTS)):
        # When the whole list is read in one page, and page by page by its cursors
        whole = listed(client, sort=sort, limit=500)
        # Then every page size gives the same leads in the same order
        for limit in (1, 3):
            assert ids(every_page(client, "/leads", limit, sort=sort)) == ids(whole), sort
        # And the order is the field's (ties in the order made), `-` the reverse
        field = sort.removeprefix("-")
        if field != "created":
            values = [lead[field] for lead in whole]
            assert values == sorted(values, reverse=sort.startswith("-")), sort
        assert ids(listed(client, sort=reverse(sort), limit=500)) == ids(whole)[::-1]
    assert [lead["status"] for lead in listed(client, sort="status")] == [
        "disqualified",
        "new",
        "new",
        "qualified",
    ]
    # And filters and as_of page alike
    assert ids(every_page(client, "/leads", 1, status="new")) == [s.bob, s.dee]
    then = str(s.before_qualify)
    assert ids(every_page(client, "/leads", 1, sort="-status", as_of=then)) == [
        s.dee,
        s.cyd,
        s.bob,
        s.ada,
    ]


def test_a_lead_written_between_two_pages_is_neither_missed_nor_repeated(
    client: TestClient, clock: ManualClock, seeded: Seed
) -> None:
    s = seeded
    # Given the first page of two leads
    first = page(client, limit=2)
    assert ids(first["items"]) == [s.ada, s.bob]
    # When a lead is made, and one already shown is changed, before the next page is read
    eve = new_lead(client, clock, first_name="Eve", last_name="Late")
    execute(client, clock, EditLead(lead_id=UUID(s.bob), company="Initrode"))
    project(client)
    rest = page(client, limit=2, cursor=first["next_cursor"])
    last = page(client, limit=2, cursor=rest["next_cursor"])
    # Then the pages after it hold every other lead once, the new one last
    assert ids(rest["items"]) + ids(last["items"]) == [s.cyd, s.dee, eve]
    assert last["next_cursor"] is None


def test_a_cursor_of_another_order_or_list_or_one_made_up_is_not_found(
    client: TestClient, seeded: Seed
) -> None:
    # Given a cursor of the leads by status
    cursor = page(client, sort="status", limit=1)["next_cursor"]
    assert page(client, sort="status", limit=1, cursor=cursor)["items"]
    # Then the leads in another order, and the campaigns, have no such page
    for url, sort in (("/leads", "-status"), ("/leads", "created"), ("/campaigns", "created")):
        response = client.get(url, params={"sort": sort, "cursor": cursor})
        assert_error(response, 404, "not_found")
    # And neither has a cursor of this order whose key is made up
    for key in (["new", "x"], ["new", None, 3], [7, 3], ["new", True]):
        made_up = make_key_cursor("leads:status", key)
        response = client.get("/leads", params={"sort": "status", "cursor": made_up})
        assert_error(response, 404, "not_found")
    made_up = make_key_cursor("campaigns:ends_on", [0, "the 5th of May", 3])
    response = client.get("/campaigns", params={"sort": "ends_on", "cursor": made_up})
    assert_error(response, 404, "not_found")


def test_paging_the_campaigns_by_cursor_gives_each_order_whole(
    client: TestClient, clock: ManualClock, seeded: Seed
) -> None:
    # Given campaigns with and without dates (and the seed's Spring and Autumn, without)
    for name, starts, ends in (
        ("Winter", date(2027, 12, 1), date(2028, 2, 28)),
        ("Easter", date(2027, 4, 1), None),
        ("Summer", date(2027, 6, 1), date(2027, 8, 31)),
        ("Black Friday", None, date(2027, 11, 29)),
    ):
        command = CreateCampaign(campaign_id=uuid4(), name=name, starts_on=starts, ends_on=ends)
        execute(client, clock, command)
    project(client)

    def names(items: list[JSON]) -> list[str]:
        return [c["name"] for c in items]

    made = ["Spring", "Autumn", "Winter", "Easter", "Summer", "Black Friday"]
    assert names(every_page(client, "/campaigns", 4)) == made
    for sort in (*CAMPAIGN_SORTS, *map(reverse, CAMPAIGN_SORTS)):
        # When read whole and page by page, Then in the same order, `-` the reverse
        whole = query_ok(client.get("/campaigns", params={"sort": sort}))["items"]
        for limit in (1, 4):
            assert names(every_page(client, "/campaigns", limit, sort=sort)) == names(whole)
        reversed_ = query_ok(client.get("/campaigns", params={"sort": reverse(sort)}))["items"]
        assert names(reversed_) == names(whole)[::-1]
    # And by a date those without it come last, in the order made
    by_end = every_page(client, "/campaigns", 2, sort="ends_on")
    assert names(by_end) == ["Summer", "Black Friday", "Winter", "Spring", "Autumn", "Easter"]
    assert names(every_page(client, "/campaigns", 2, sort="name"))[:2] == ["Autumn", "Black Friday"]
    # And a campaign made between two pages comes once, where its order puts it
    first = query_ok(client.get("/campaigns", params={"sort": "starts_on", "limit": 2}))
    assert names(first["items"]) == ["Easter", "Summer"]
    execute(
        client,
        clock,
        CreateCampaign(campaign_id=uuid4(), name="Autumn fair", starts_on=date(2027, 9, 1)),
    )
    project(client)
    rest = every_page(client, "/campaigns", 2, sort="starts_on", cursor=first["next_cursor"])
    assert names(rest) == ["Autumn fair", "Winter", "Spring", "Autumn", "Black Friday"]


# --- bad input, wait_for ------------------------------------------------------------------------


def test_bad_parameters_are_422_and_as_of_beyond_the_read_model_is_409(
    client: TestClient, seeded: Seed
) -> None:
    for url, params in (
        ("/leads", {"status": "won"}),
        ("/leads", {"campaign_id": "not-a-uuid"}),
        ("/leads", {"pool": "maybe"}),
        ("/leads", {"limit": "0"}),
        ("/leads", {"limit": "501"}),
        ("/leads", {"offset": "2"}),  # gone: pages follow their cursors
        ("/leads", {"sort": "company"}),
        ("/leads", {"cursor": "not a cursor"}),
        ("/leads", {"as_of": "yesterday"}),
        ("/leads", {"as_of": "2027-01-04T10:00:00"}),  # no offset
        ("/leads", {"wait_for": "-1"}),
        ("/leads/summary", {"by": "company"}),
        ("/leads/summary", {"status": "won"}),
        ("/campaigns", {"archived": "sometimes"}),
        ("/campaigns", {"sort": "-"}),
        ("/campaigns/report", {"as_of": "soon"}),
    ):
        assert_error(client.get(url, params=params), 422)
    for url in ("/leads", "/leads/summary", "/campaigns", "/campaigns/report"):
        body = assert_error(client.get(url, params={"as_of": "999999"}), 409)
        assert "wait_for" in body["detail"]


def test_wait_for_a_new_lead_answers_once_the_read_model_shows_it(
    client: TestClient, seeded: Seed
) -> None:
    # Given the projector running in the background, as serve runs it
    services = services_of(client)
    projector = services.start_projector()
    try:
        # When a lead is created and the list waits for its position
        lead_id = uuid4()
        services.bus.execute(
            CreateLead(lead_id=lead_id, first_name="Eve", last_name="Late", campaign_id=None)
        )
        position = services.store.max_position()
        response = client.get("/leads", params={"wait_for": position})
        # Then it is in the answer, which says a position at or after it
        assert response.status_code == 200, response.text
        assert by_id(response.json()["items"])[str(lead_id)]["first_name"] == "Eve"
        assert response.json()["as_of"]["position"] >= position
        summary = query_ok(client.get("/leads/summary", params={"wait_for": position}))
        assert {"status": "new", "count": 3} in summary["rows"]
    finally:
        projector.stop()
