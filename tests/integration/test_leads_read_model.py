"""The leads read model kept by the sales projector, on SQLite and on PostgreSQL.

Commands go through the real command bus; the projector is caught up (and restarted
from its tables) by the test, as the worker would. The scripted history, with the log
position of each step in ``Story.at``:

    campaigns  Spring (email, 2027-03-01 → 2027-05-31), Autumn; Autumn archived at the end
    lead A     created by hand for alice (Spring, source web, ACME), personal data changed,
               details changed (Autumn, fair, high, ACME GmbH), assigned to bob, split
               carol 70 / bob 30, activity logged (→ working), edited, a second logged
               and deleted, added to account ACME and to partner Resell, qualified
               (opportunity for Autumn), archived, unarchived, anonymized
    lead B     through the lead processor, no owner (the free pool), Spring; disqualified
               as junk
    lead C     by hand for bob with A's e-mail: a duplicate of A
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest

from adapters.bootstrap import Services
from adapters.clock import ManualClock
from adapters.readmodel_store.postgres import PostgresReadModelStore
from adapters.settings import Settings
from commands import leads as lead_commands
from commands.campaigns import ArchiveCampaign, CreateCampaign
from commands.lead_activities import DeleteLeadActivity, EditLeadActivity, LogLeadActivity
from commands.lead_intake import IntakeLead
from commands.reference_data import CreateAccount
from domain.ids import account_id_for
from domain.lead import LeadCreated
from readmodels.bookkeeping import DEAD_LETTERS
from readmodels.leads import queries as lead_queries
from readmodels.leads.queries import LeadFilters, campaign_report, list_leads, summary
from readmodels.leads.tables import (
    CAMPAIGN_OPPORTUNITIES,
    CAMPAIGN_VERSIONS,
    CAMPAIGNS,
    LEAD_VERSIONS,
    LEADS,
    LeadRow,
)
from tests.identity import TEAM
from tests.readmodel_tables import ALL_TABLES

pytestmark = pytest.mark.users(*TEAM)

# Distinctive personal data: nothing like it may reach the read model's tables.
FIRST, LAST = "Xylophonia", "Quembrickworth"
EMAIL = "xylophonia.q@quembrick.example"
PHONE = "+49 30 98765432"
ADDRESS = "Zwetschgenallee 17, 10999 Berlin"
SUBJECT = "Quembrickworth asked for a demo"
NOTES = "prefers calls after 4pm, mobile 0171 5550123"
RENAMED = "Xylophonius"
PERSONAL_STRINGS = (FIRST, LAST, EMAIL, PHONE, "98765432", ADDRESS, SUBJECT, NOTES, RENAMED)
LEAD_TABLES = (
    LEAD_VERSIONS,
    CAMPAIGN_VERSIONS,
    CAMPAIGN_OPPORTUNITIES,
)


def the_person(lead_id: UUID, **fields: Any) -> lead_commands.CreateLead:
    """A lead of the person above (every personal field set), with ``fields``."""
    return lead_commands.CreateLead(
        lead_id=lead_id,
        first_name=FIRST,
        last_name=LAST,
        email=EMAIL,
        phone=PHONE,
        address=ADDRESS,
        notes=NOTES,
        **fields,
    )


@dataclass
class Story:
    spring: UUID
    autumn: UUID
    a: UUID
    b: UUID
    c: UUID
    opportunity: UUID
    partner: UUID
    at: dict[str, int] = field(default_factory=dict)  # step → its log position


def project(services: Services) -> int:
    """A projector started from the tables, caught up: the position it reached."""
    projector = services.projector()
    projector.start()
    projector.catch_up()
    return projector.position


def write_story(services: Services, clock: ManualClock, *, catch_up: bool = False) -> Story:
    """The history of the module docstring, a minute between steps; with ``catch_up`` the
    projector follows (and restarts from its tables) every few steps."""
    story = Story(
        spring=uuid4(),
        autumn=uuid4(),
        a=uuid4(),
        b=uuid4(),
        c=uuid4(),
        opportunity=uuid4(),
        partner=uuid4(),
    )
    first_activity, second_activity = uuid4(), uuid4()
    steps: list[tuple[str, Callable[[], Any]]] = [
        (
            "spring",
            lambda: CreateCampaign(
                campaign_id=story.spring,
                name="Spring",
                channel="email",
                starts_on=date(2027, 3, 1),
                ends_on=date(2027, 5, 31),
            ),
        ),
        ("autumn", lambda: CreateCampaign(campaign_id=story.autumn, name="Autumn")),
        ("partner", lambda: CreateAccount(name="Resell", partner=True)),
        (
            "a created",
            lambda: the_person(
                story.a,
                company="ACME",
                source="web",
                campaign_id=story.spring,
                owner="alice",
            ),
        ),
        ("a personal", lambda: lead_commands.EditLead(lead_id=story.a, first_name=RENAMED)),
        (
            "a details",
            lambda: lead_commands.EditLead(
                lead_id=story.a,
                company="ACME GmbH",
                source="fair",
                campaign_id=story.autumn,
                priority="high",
            ),
        ),
        ("a assigned", lambda: lead_commands.AssignLead(lead_id=story.a, owner="bob")),
        (
            "a split",
            lambda: lead_commands.SplitLead(lead_id=story.a, shares={"carol": 70, "bob": 30}),
        ),
        (
            "a activity",
            lambda: LogLeadActivity(
                lead_id=story.a,
                activity_id=first_activity,
                kind="call",
                subject=SUBJECT,
                notes=NOTES,
            ),
        ),
        (
            "a activity edited",
            lambda: EditLeadActivity(
                lead_id=story.a, activity_id=first_activity, subject=f"{SUBJECT} again"
            ),
        ),
        (
            "a second activity",
            lambda: LogLeadActivity(
                lead_id=story.a, activity_id=second_activity, kind="email", subject=SUBJECT
            ),
        ),
        (
            "a activity deleted",
            lambda: DeleteLeadActivity(lead_id=story.a, activity_id=second_activity),
        ),
        ("a account", lambda: lead_commands.AddLeadToAccount(lead_id=story.a, account_name="ACME")),
        (
            "b created",
            lambda: IntakeLead(
                lead_id=story.b,
                first_name="Pool",
                last_name="Person",
                email="pool.person@example.com",
                source="web",
                campaign_id=story.spring,
            ),
        ),
        (
            "a partner",
            lambda: lead_commands.AddLeadToPartner(lead_id=story.a, partner_id=story.partner),
        ),
        (
            "c created",
            lambda: lead_commands.CreateLead(
                lead_id=story.c, first_name="Other", last_name=LAST, email=EMAIL, owner="bob"
            ),
        ),
        (
            "a qualified",
            lambda: lead_commands.QualifyLead(
                lead_id=story.a,
                opportunity_id=story.opportunity,
                title="ACME rollout",
                expected_close=date(2027, 6, 30),
            ),
        ),
        (
            "b disqualified",
            lambda: lead_commands.DisqualifyLead(lead_id=story.b, status="junk", reason="spam"),
        ),
        ("a archived", lambda: lead_commands.ArchiveLead(lead_id=story.a)),
        ("a unarchived", lambda: lead_commands.UnarchiveLead(lead_id=story.a)),
        ("a anonymized", lambda: lead_commands.AnonymizeLead(lead_id=story.a)),
        ("autumn archived", lambda: ArchiveCampaign(campaign_id=story.autumn)),
    ]
    for n, (name, command) in enumerate(steps):
        outcome = services.bus.execute(command())
        if name == "partner":
            story.partner = outcome.id
        story.at[name] = services.store.max_position()
        clock.advance(timedelta(minutes=1))
        if catch_up and n % 4 == 3:
            project(services)
    return story


def lead(services: Services, lead_id: UUID, position: int | None = None) -> LeadRow:
    found = [row for row in lead_queries.leads(services.views, position) if row.id == str(lead_id)]
    assert len(found) == 1, found
    return found[0]


def versions(services: Services, lead_id: UUID) -> list[tuple[Any, ...]]:
    return [r for r in services.views.rows(LEAD_VERSIONS) if str(r[0]) == str(lead_id)]


@pytest.fixture
def story(services: Services, clock: ManualClock) -> Story:
    written = write_story(services, clock, catch_up=True)
    project(services)
    return written


# --- every event, one version each ---------------------------------------------------------


def test_each_lead_event_is_a_new_version_holding_what_it_changed(
    services: Services, story: Story
) -> None:
    at = story.at
    a = lead(services, story.a)
    # the current version of A: everything its events said, and erased
    assert (a.status, a.disqualified_as, a.owner, a.partner_id) == (
        "qualified",
        None,
        "carol",
        str(story.partner),
    )
    assert (a.account_id, a.opportunity_id, a.company, a.priority) == (
        str(account_id_for("ACME")),
        str(story.opportunity),
        "ACME GmbH",
        "high",
    )
    assert (a.source, a.campaign_id, a.channel, a.duplicate_of) == (
        "fair",
        str(story.autumn),
        "manual",
        None,
    )
    assert (a.archived, a.anonymized, a.activities, a.personal_sealed) == (False, True, 1, None)
    assert a.valid_from == at["a anonymized"] and a.created_at < a.updated_at

    # one version per event of A (16: activity logged and work started are two)
    rows = versions(services, story.a)
    assert len(rows) == 16
    assert all(r[2] is None for r in rows[-1:]) and all(r[2] is not None for r in rows[:-1])
    assert [r[2] for r in rows[:-1]] == [r[1] for r in rows[1:]]  # each ends where the next begins

    # as of each step, the version standing then
    def as_of(step: str) -> LeadRow:
        return lead(services, story.a, at[step])

    assert as_of("a created").owner == "alice" and as_of("a created").status == "new"
    assert as_of("a created").personal_sealed is not None
    assert as_of("a personal").personal_sealed not in (None, as_of("a created").personal_sealed)
    details = as_of("a details")
    assert (details.source, details.campaign_id) == ("fair", str(story.autumn))
    assert as_of("a assigned").owner == "bob"
    assert as_of("a split").owner == "carol"
    assert (as_of("a activity").status, as_of("a activity").activities) == ("working", 1)
    assert as_of("a second activity").activities == 2
    assert as_of("a activity deleted").activities == 1
    assert as_of("a account").account_id == str(account_id_for("ACME"))
    assert as_of("a partner").partner_id == str(story.partner)
    assert as_of("a qualified").status == "qualified"
    assert as_of("a archived").archived is True and as_of("a unarchived").archived is False
    assert as_of("a unarchived").personal_sealed == as_of("a personal").personal_sealed
    assert lead_queries.leads(services.views, at["spring"]) == []

    # B: the lead processor's, in the pool, then disqualified; C: a duplicate of A
    b = lead(services, story.b)
    assert (b.channel, b.owner, b.partner_id, b.campaign_id) == (
        "intake",
        None,
        None,
        str(story.spring),
    )
    assert (b.status, b.disqualified_as) == ("disqualified", "junk")
    assert lead(services, story.b, at["b created"]).status == "new"
    c = lead(services, story.c)
    assert (c.duplicate_of, c.owner, c.campaign_id) == (str(story.a), "bob", None)

    # campaigns: versions, Autumn archived at the end; the opportunity made for Autumn
    campaigns = {row.name: row for row in lead_queries.campaigns(services.views, None)}
    assert campaigns["Spring"].channel == "email"
    assert (campaigns["Spring"].starts_on, campaigns["Spring"].ends_on) == (
        date(2027, 3, 1),
        date(2027, 5, 31),
    )
    assert campaigns["Autumn"].archived is True
    before = {row.name: row for row in lead_queries.campaigns(services.views, at["a anonymized"])}
    assert before["Autumn"].archived is False
    assert services.views.rows(CAMPAIGN_OPPORTUNITIES) == [
        tuple(
            services.views.param("id", v) if isinstance(v, UUID) else v
            for v in (story.opportunity, story.autumn, story.a, at["a qualified"])
        )
    ]
    assert lead_queries.campaign_opportunities(services.views, at["a qualified"] - 1) == {}
    assert lead_queries.campaign_opportunities(services.views, None) == {str(story.autumn): 1}


def test_the_views_show_the_current_versions_for_sql(services: Services, story: Story) -> None:
    views = services.views
    leads = views._select(f"SELECT id, status, owner FROM {LEADS} ORDER BY created_at")
    assert [(str(i), s, o) for i, s, o in leads] == [
        (str(story.a), "qualified", "carol"),
        (str(story.b), "disqualified", None),
        (str(story.c), "new", "bob"),
    ]
    campaigns = views._select(f"SELECT name, archived FROM {CAMPAIGNS} ORDER BY name")
    assert [(n, bool(a)) for n, a in campaigns] == [("Autumn", True), ("Spring", False)]
    pooled = views._select(
        f"SELECT count(*) FROM {LEADS} WHERE owner IS NULL AND partner_id IS NULL"
    )
    assert pooled[0][0] == 1


def test_a_rebuild_writes_the_rows_the_projector_kept_while_following(
    services: Services, story: Story
) -> None:
    # Given the tables the projector kept as it followed the story (restarting now and then)
    followed = {name: services.views.rows(name) for name in ALL_TABLES}
    assert len(followed[LEAD_VERSIONS]) == 16 + 2 + 1  # A, B, C
    # When they are rebuilt from the log in one go
    services.rebuild(writer="inline")
    # Then every table holds the same rows
    assert {name: services.views.rows(name) for name in ALL_TABLES} == followed
    assert not services.views.rows(DEAD_LETTERS)


def test_a_rebuild_by_a_writer_process_writes_the_same_lead_rows(
    services: Services, story: Story
) -> None:
    inline = {name: services.views.rows(name) for name in LEAD_TABLES}
    services.rebuild(writer="process", flush_every=1)
    assert {name: services.views.rows(name) for name in LEAD_TABLES} == inline


# --- personal data -----------------------------------------------------------------------


def _holds(value: Any, needle: str) -> bool:
    if isinstance(value, bytes | bytearray | memoryview):
        return needle.encode() in bytes(value)
    return needle.lower() in str(value).lower()


def test_no_read_model_table_holds_personal_data_in_the_clear(
    services: Services, settings: Settings
) -> None:
    # Given a lead with distinctive personal data and a sales activity about the person,
    # projected
    lead_id = uuid4()
    services.bus.execute(
        the_person(
            lead_id,
            company="Initech",
            owner="alice",
        )
    )
    services.bus.execute(
        LogLeadActivity(
            lead_id=lead_id, activity_id=uuid4(), kind="call", subject=SUBJECT, notes=NOTES
        )
    )
    services.bus.execute(lead_commands.EditLead(lead_id=lead_id, first_name=RENAMED))
    project(services)

    # Then no column of any row of the lead versions (nor of any other read-model table)
    # holds any of it
    rows = services.views.rows(LEAD_VERSIONS)
    assert len(rows) == 4
    for name in ALL_TABLES:
        for row in services.views.rows(name):
            for value in row:
                for needle in PERSONAL_STRINGS:
                    assert not _holds(value, needle), f"{needle!r} in {name}: {row}"
    # on SQLite, not even in the file's bytes
    if not settings.uses_postgres:
        path = settings.read_model_path
        raw = b"".join(
            p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()
        )
        assert raw and not any(needle.encode() in raw for needle in PERSONAL_STRINGS)
    # What a row holds is the event store's ciphertext, which the lead's key opens
    sealed = lead(services, lead_id).personal_sealed
    assert sealed is not None
    (opened,) = services.store.open_sealed([(lead_id, sealed, LeadCreated)])
    assert opened is not None
    person = msgspec.to_builtins(opened["personal"])
    assert (person["first_name"], person["last_name"], person["email"]) == (RENAMED, LAST, EMAIL)

    # When the lead is anonymized, Then its current row holds no ciphertext either and the
    # earlier versions' can no longer be opened
    before = services.store.max_position()
    services.bus.execute(lead_commands.AnonymizeLead(lead_id=lead_id))
    project(services)
    now = lead(services, lead_id)
    assert (now.anonymized, now.personal_sealed) == (True, None)
    old = lead(services, lead_id, before).personal_sealed
    assert old == sealed
    assert services.store.open_sealed([(lead_id, old, LeadCreated)]) == [None]


# --- queries -----------------------------------------------------------------------------


def test_list_summary_and_campaign_report_now_and_as_of(services: Services, story: Story) -> None:
    views, at = services.views, story.at
    everything = LeadFilters()

    def ids(filters: LeadFilters, position: int | None = None) -> list[str]:
        return [row.id for row in list_leads(views, filters, position).records]

    a, b, c = str(story.a), str(story.b), str(story.c)
    assert ids(everything) == [a, b, c]  # by creation
    assert ids(LeadFilters(status="qualified")) == [a]
    assert ids(LeadFilters(status="new")) == [c]
    assert ids(LeadFilters(source="web")) == [b]
    assert ids(LeadFilters(campaign_id=story.spring)) == [b]
    assert ids(LeadFilters(owner="bob")) == [c]
    assert ids(LeadFilters(pool=True)) == [b]
    assert ids(LeadFilters(pool=False)) == [a, c]
    assert ids(LeadFilters(anonymized=True)) == [a]
    assert ids(LeadFilters(anonymized=False)) == [b, c]
    assert ids(LeadFilters(archived=True)) == []
    assert ids(LeadFilters(archived=True), at["a archived"]) == [a]
    assert ids(LeadFilters(campaign_id=story.spring), at["a created"]) == [a]
    assert ids(LeadFilters(owner="alice", status="new"), at["a created"]) == [a]

    assert summary(views, everything, None, "status") == [
        {"status": "disqualified", "count": 1},
        {"status": "new", "count": 1},
        {"status": "qualified", "count": 1},
    ]
    assert summary(views, everything, None, "campaign") == [
        {"campaign": None, "count": 1},
        *({"campaign": c, "count": 1} for c in sorted([str(story.autumn), str(story.spring)])),
    ]
    assert summary(views, everything, None, "owner") == [
        {"owner": None, "count": 1},
        {"owner": "bob", "count": 1},
        {"owner": "carol", "count": 1},
    ]
    assert summary(views, everything, at["b created"], "source") == [
        {"source": "fair", "count": 1},
        {"source": "web", "count": 1},
    ]
    assert summary(views, LeadFilters(pool=True), None, "source") == [{"source": "web", "count": 1}]

    report = {row["name"]: row for row in campaign_report(views, None)}
    assert report["Autumn"] == {
        "campaign_id": str(story.autumn),
        "name": "Autumn",
        "archived": True,
        "leads": 1,
        "qualified": 1,
        "disqualified": 0,
        "conversion": "1.0000",
        "opportunities": 1,
    }
    assert report["Spring"] == {
        "campaign_id": str(story.spring),
        "name": "Spring",
        "archived": False,
        "leads": 1,
        "qualified": 0,
        "disqualified": 1,
        "conversion": "0.0000",
        "opportunities": 0,
    }
    # as of before A moved to Autumn: Spring had both, Autumn none (no conversion)
    earlier = {row["name"]: row for row in campaign_report(views, at["b created"])}
    assert (earlier["Spring"]["leads"], earlier["Spring"]["conversion"]) == (1, "0.0000")
    assert (earlier["Autumn"]["leads"], earlier["Autumn"]["conversion"]) == (1, "0.0000")
    first = {row["name"]: row for row in campaign_report(views, at["a created"])}
    assert (first["Autumn"]["leads"], first["Autumn"]["conversion"]) == (0, None)
    assert (first["Spring"]["leads"], first["Spring"]["qualified"]) == (1, 0)
    assert [row["name"] for row in campaign_report(views, None, archived=False)] == ["Spring"]


def test_conversion_is_rounded_half_up_to_four_places(services: Services) -> None:
    # Given a campaign with three leads, one of them qualified
    campaign = uuid4()
    services.bus.execute(CreateCampaign(campaign_id=campaign, name="Thirds"))
    leads = [uuid4() for _ in range(3)]
    for n, lead_id in enumerate(leads):
        services.bus.execute(
            lead_commands.CreateLead(
                lead_id=lead_id,
                first_name="P",
                last_name=f"L{n}",
                company="Globex",
                campaign_id=campaign,
                owner="alice",
            )
        )
    services.bus.execute(
        lead_commands.QualifyLead(
            lead_id=leads[0], opportunity_id=uuid4(), title="t", expected_close=date(2027, 6, 1)
        )
    )
    project(services)
    (row,) = campaign_report(services.views, None)
    assert (row["leads"], row["qualified"], row["conversion"], row["opportunities"]) == (
        3,
        1,
        "0.3333",
        1,
    )
    # two of three: 0.66666… rounds up
    services.bus.execute(
        lead_commands.QualifyLead(
            lead_id=leads[1], opportunity_id=uuid4(), title="t", expected_close=date(2027, 6, 1)
        )
    )
    project(services)
    (row,) = campaign_report(services.views, None)
    assert (row["conversion"], row["opportunities"]) == ("0.6667", 2)


# --- PostgreSQL's COPY path ------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_lead_rows_copied_through_staging_tables_equal_those_written_row_by_row(
    services: Services, clock: ManualClock
) -> None:
    write_story(services, clock)
    views = services.views
    assert isinstance(views, PostgresReadModelStore)
    views.bulk_rows = 10**9
    services.projector(flush_every=1000).rebuild()
    row_by_row = {name: views.rows(name) for name in LEAD_TABLES}
    views.bulk_rows = 1
    services.projector(flush_every=1000).rebuild()
    assert {name: views.rows(name) for name in LEAD_TABLES} == row_by_row
    # and versions ended by later writes (UPDATEs of valid_to) too
    projector = services.projector(flush_every=1)
    projector.rebuild()
    assert {name: views.rows(name) for name in LEAD_TABLES} == row_by_row
