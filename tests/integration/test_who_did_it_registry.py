"""Who did it, over the whole event registry: one story on one embedded store writes every
event type the store knows, each through a path that really writes it — HTTP, Kafka
commands (the commands worker's own ``run_command``, as it runs each message it polls),
the ``crmledger`` command line, the contracts process, the store's bootstrap — and every
event says who did it (``by``), in which request (``request_id``) and caused by what
(``causation_id``), as ``docs/design.md`` ("Who did it") says that path gives them.

The types the story wrote must be exactly the registry's: a new event type no path here
writes fails this test until the story writes it.
"""

from __future__ import annotations

import contextlib
import getpass
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import msgspec
from fastapi.testclient import TestClient

from adapters.automations_runner import automations_process
from adapters.bootstrap import Services, bootstrap
from adapters.http.app import create_app
from adapters.kafka_commands import run_command
from adapters.webhooks.running import sender_settings, webhook_outbox
from adapters.webhooks.sender import WebhookSender
from domain.contract import ContractCreated, renewal_opportunity_id_for
from domain.events import (
    DomainEvent,
    event_class,
    event_id,
    registered_event_types,
    topic_of,
)
from processes.automations import TOPICS as AUTOMATION_TRIGGERS
from processes.contracts import TOPICS as PROCESS_TRIGGERS
from processes.notifications import TOPICS as NOTICE_TRIGGERS
from projections.projection import Projection
from readmodels import SLICES
from readmodels.audit.tables import AUDIT_EVENTS
from readmodels.values import micros
from tests.conftest import settings_for
from tests.identity import bearer
from tests.processes import crmledger

JSON = dict[str, Any]
CLI = f"cli:{getpass.getuser()}"
CONTRACTS = "system:contracts"
NOTIFICATIONS = "system:notifications"
AUTOMATION = "system:automation:"
BOOTSTRAP = "system:bootstrap"
WEBHOOKS = "system:webhooks"


@dataclass(frozen=True)
class Written:
    """What one path wrote: the log positions after ``after`` up to ``upto``, by whom, and
    the request id it was given (an HTTP request's ``X-Request-ID``, a Kafka command id)."""

    path: str  # http, kafka, cli, contracts, notifications, automations, webhooks, bootstrap
    after: int
    upto: int
    by: str
    request_id: str | None = None
    # Another process the same step runs (the command line's tick notifies too).
    also: str | None = None


class Story:
    """Runs each step through its path and remembers which positions each path wrote."""

    def __init__(self, services: Services, home: Path) -> None:
        self.services = services
        self.home = home
        self.written: list[Written] = []
        self.client = TestClient(create_app(services), raise_server_exceptions=False)
        self.token = ""
        self.kafka_token = ""
        self._requests = 0

    @property
    def position(self) -> int:
        return self.services.store.max_position()

    @contextlib.contextmanager
    def writing(
        self, path: str, by: str, request_id: str | None = None, also: str | None = None
    ) -> Iterator[None]:
        after = self.position
        yield
        self.written.append(Written(path, after, self.position, by, request_id, also))

    def http(self, method: str, url: str, body: JSON | None = None, *, header: bool = True) -> Any:
        """One request as the admin, with a request id of its own (or none: the server makes
        one and echoes it)."""
        self._requests += 1
        request_id = f"req-{self._requests}"
        headers = bearer(self.token) | ({"X-Request-ID": request_id} if header else {})
        after = self.position
        answer = self.client.request(method, url, json=body, headers=headers)
        assert answer.status_code in (200, 201), (method, url, answer.text)
        if not header:
            request_id = answer.headers["X-Request-ID"]
            assert request_id
        self.written.append(Written("http", after, self.position, "admin", request_id))
        return answer.json()

    def kafka(self, type_: str, body: JSON) -> JSON:
        """One message, as the commands worker runs it, from the service user ``svc``."""
        command_id = f"cmd-{uuid4()}"
        message = {"command_id": command_id, "token": self.kafka_token, "type": type_, "body": body}
        with self.writing("kafka", "svc", command_id):
            result = run_command(
                self.services.bus, self.services.identity, msgspec.json.encode(message)
            )
        assert result.status == "ok", result
        assert result.answer is not None
        return result.answer

    def cli(self, *args: str) -> str:
        with self.writing("cli", CLI):
            run = crmledger(self.home, *args)
        assert run.code == 0, run.err
        return run.out

    def react(self, until: datetime | None = None) -> None:
        """The contracts process reacts to what was sold, lost… and fires what fell due."""
        process = self.services.contracts_process()
        with self.writing("contracts", CONTRACTS):
            process.catch_up()
            if until is not None:
                process.tick(until)
        assert process.refused == 0

    def notify(self, until: datetime) -> None:
        """The notifications process sends what the log calls for and fires reminders."""
        process = self.services.notifications_process()
        with self.writing("notifications", NOTIFICATIONS):
            process.catch_up()
            process.tick(until)
            process.catch_up()
        assert process.refused == 0

    def automate(self, max_depth: int) -> None:
        """The automations process runs what the log triggers (each automation's events say
        ``system:automation:<id>``, their request the chain and its depth)."""
        process = automations_process(self.services)
        process.max_depth = max_depth
        with self.writing("automations", AUTOMATION):
            while process.catch_up():
                pass
        assert process.refused == 0

    def tick_from_the_command_line(self, until: datetime) -> None:
        with self.writing("contracts", CONTRACTS, also=NOTIFICATIONS):
            run = crmledger(self.home, "tick", "--until", until.isoformat())
        assert run.code == 0, run.err

    def events(self) -> list[tuple[int, DomainEvent]]:
        log = self.services.event_log
        return [(row.id, log.decode(row)) for row in log.read(0, 1_000_000)]


# --- the story, one area at a time ----------------------------------------------------------


def people(story: Story) -> None:
    """Users: the admin and a rep by the CLI; the reps, a service user and a leaver by HTTP."""
    story.cli("users", "add", "admin", "--role", "admin")
    story.token = story.cli("users", "token", "admin").strip()
    story.cli("users", "add", "rita", "--role", "rep")
    story.cli("users", "token", "rita")
    story.cli("users", "revoke-tokens", "rita")
    for login in ("alice", "bob", "gone"):
        story.http("POST", "/users", {"login": login, "role": "rep"})
    story.http("PATCH", "/users/bob", {"name": "Bob Baker"})
    story.http("POST", "/users/gone/tokens", {"expires_in_days": 1})
    story.http("DELETE", "/users/gone/tokens")
    story.http("POST", "/users/gone/deactivate")
    story.http("POST", "/users", {"login": "svc", "role": "admin"})
    story.kafka_token = story.http("POST", "/users/svc/tokens", {})["token"]


def settings(story: Story) -> dict[str, str]:
    """The catalogue, rates, pipelines and accounts; the ids of what the deals use."""
    http = story.http
    product = {"category": "software", "kind": "time_based", "term_months": 12}
    licence = http("POST", "/products", {"name": "Licence", "code": "LIC", **product})["id"]
    support = http(
        "POST", "/products", {"name": "Support", "code": "SUP", **product, "category": "support"}
    )["id"]
    box = http(
        "POST",
        "/products",
        {"name": "Box", "code": "BOX", "category": "implementation", "kind": "one_off"},
    )["id"]
    http("POST", f"/products/{box}/deactivate")
    http("POST", f"/products/{box}/reactivate")
    book = http("POST", "/price-books", {"name": "Prices"})["id"]
    for product_id, unit, price in ((licence, "user", "25.00"), (support, "user", "40.00")):
        body = {"product_id": product_id, "unit": unit, "currency": "EUR", "price": price}
        http("POST", f"/price-books/{book}/prices", body)
    body = {"product_id": box, "unit": "each", "currency": "EUR", "price": "600.00"}
    http("POST", f"/price-books/{book}/prices", body)
    components = [{"product_id": licence, "weight": "2"}, {"product_id": support, "weight": "1"}]
    suite = http(
        "POST",
        "/bundles",
        {"name": "Suite", "code": "SUITE", "price_book_id": book, "components": components},
    )["id"]
    body = {"product_id": suite, "unit": "each", "currency": "EUR", "price": "100.00"}
    http("POST", f"/price-books/{book}/prices", body)
    old = http("POST", "/price-books", {"name": "Old prices"})["id"]
    http("POST", f"/price-books/{old}/deactivate")
    http("POST", "/exchange-rates", {"currency": "USD", "rate": "0.9"})
    stages = [
        {"key": "open", "name": "Open", "probability": 30, "forecast_category": "pipeline"},
        {"key": "won", "name": "Won", "probability": 100, "forecast_category": "closed"}
        | {"closed": "won"},
        {"key": "lost", "name": "Lost", "probability": 0, "forecast_category": "omitted"}
        | {"closed": "lost"},
        {"key": "unq", "name": "Unqualified", "probability": 0, "forecast_category": "omitted"}
        | {"closed": "unqualified"},
    ]
    http("POST", "/pipelines", {"name": "partners", "stages": stages})
    http(
        "POST",
        "/pipelines/sales/stages/proposal",
        {"probability": 55, "forecast_category": "best_case"},
    )
    partner = http("POST", "/accounts", {"name": "Partner Co", "partner": True})["id"]
    secret = http("POST", "/accounts", {"name": "Secret Co"})["id"]
    http("PATCH", f"/accounts/{secret}", {"private": True, "shared_with": ["bob"]})
    http("PATCH", f"/accounts/{partner}", {"type": "partner", "industry": "Reselling"})
    old = http("POST", "/accounts", {"name": "Old Co"})["id"]
    http("POST", f"/accounts/{old}/merge", {"into": secret})
    http("POST", "/targets", {"owner": "alice", "period": "2027-Q1", "amount": "1000"})
    return {"licence": licence, "box": box, "suite": suite, "book": book, "partner": partner}


def deal(story: Story, title: str, **fields: Any) -> str:
    body = {"title": title, "owner": "alice", "expected_close": "2027-06-30"}
    return str(
        story.http("POST", "/opportunities", {"account_name": "ACME", **body, **fields})["id"]
    )


def quote(story: Story, opportunity: str, *items: JSON, book: str | None = None) -> str:
    body = {"name": "Offer", "currency": "EUR"} | ({"price_book_id": book} if book else {})
    quote_id = str(story.http("POST", f"/opportunities/{opportunity}/quotes", body)["quote_id"])
    for item in items:
        story.http("POST", f"/quotes/{quote_id}/items", item)
    return quote_id


def selling(story: Story, made: dict[str, str]) -> dict[str, str]:
    """Deals worked every way there is, sold, unlocked, re-sold; deals lost, reopened,
    copied, deleted. The ids of the two sold deals."""
    http = story.http
    a = deal(story, "ACME rollout")
    http(
        "PATCH",
        f"/opportunities/{a}",
        {
            "title": "ACME rollout 2027",
            "amount": {"amount": "5000.00", "currency": "EUR"},
            "expected_close": "2027-09-30",
            "probability": 40,
            "forecast_category": "best_case",
            "owner": "bob",
        },
    )
    http("PATCH", f"/opportunities/{a}", {"private": True, "shared_with": ["alice"]}, header=False)
    http("POST", f"/opportunities/{a}/stage", {"stage": "proposal"})
    http("POST", f"/opportunities/{a}/partner", {"partner_id": made["partner"]})
    role = http("POST", f"/opportunities/{a}/roles", {"contact": "Eve", "role": "sponsor"})
    http("DELETE", f"/opportunities/{a}/roles/{role['role_id']}")
    activity = {"kind": "call", "subject": "Intro"}
    logged = http("POST", f"/opportunities/{a}/activities", activity)["activity_id"]
    http("PATCH", f"/opportunities/{a}/activities/{logged}", {"notes": "went well"})
    http("DELETE", f"/opportunities/{a}/activities/{logged}")
    book = made["book"]
    q1 = quote(story, a, book=book)
    items = {
        name: http("POST", f"/quotes/{q1}/items", {"product_id": made[name], "quantity": q})[
            "item_id"
        ]
        for name, q in (("licence", "10"), ("suite", "1"), ("box", "2"))
    }
    http("PATCH", f"/quotes/{q1}/items/{items['box']}", {"quantity": "3"})
    http("PATCH", f"/quotes/{q1}", {"name": "Offer A"})
    http("PUT", f"/quotes/{q1}/rounding", {"amount": "-0.50"})
    http("POST", f"/quotes/{q1}/activate")
    http("POST", f"/quotes/{q1}/deactivate")
    http("POST", f"/quotes/{q1}/activate")
    http("POST", f"/quotes/{q1}/offer", {})
    copy = http("POST", f"/quotes/{q1}/duplicate", {"name": "Copy"})["quote_id"]
    http("DELETE", f"/quotes/{copy}")
    usd = quote(story, a)
    http("POST", f"/quotes/{usd}/currency", {"currency": "USD"})
    http("DELETE", f"/quotes/{usd}")
    http("POST", f"/opportunities/{a}/sell")
    story.react()
    # Unlocked, changed (one item more, one item less) and sold again
    http("POST", f"/opportunities/{a}/unlock")
    http("PATCH", f"/quotes/{q1}/items/{items['licence']}", {"quantity": "12"})
    http("DELETE", f"/quotes/{q1}/items/{items['box']}")
    http("POST", f"/opportunities/{a}/sell")
    story.react()
    # A one-off sold and delivered
    b = deal(story, "Box deal")
    qb = quote(story, b, {"product_id": made["box"], "quantity": "1"}, book=book)
    http("POST", f"/quotes/{qb}/activate")
    http("POST", f"/opportunities/{b}/sell")
    story.react()
    # Lost, reopened, unqualified; copied and deleted
    c = deal(story, "Maybe")
    http("POST", f"/opportunities/{c}/lose", {"reason": "price"})
    http("POST", f"/opportunities/{c}/reopen")
    http("POST", f"/opportunities/{c}/unqualified", {"reason": "no budget"})
    d = deal(story, "Draft")
    http("POST", f"/opportunities/{d}/copy", {"title": "Draft 2", "owner": "bob"})
    http("DELETE", f"/opportunities/{d}")
    story.react()
    return {"a": a, "b": b}


def pipelines(story: Story, made: dict[str, str]) -> None:
    """A stage added, renamed, moved and removed (the deal in it moved on); a deal moved to
    another pipeline and given another account."""
    http = story.http
    demo = {"key": "demo", "name": "Demo", "probability": 40, "forecast_category": "pipeline"}
    http("POST", "/pipelines/sales/stages", {**demo, "after": "qualification"})
    http("PATCH", "/pipelines/sales/stages/demo", {"name": "Discovery", "position": 1})
    e = deal(story, "Demo deal", stage="demo")
    # The removal finds the stage's deals in the read model: bring it up to the log's end.
    projector = story.services.projector()
    projector.start()
    projector.catch_up()
    http("DELETE", "/pipelines/sales/stages/demo?move_to=qualification")
    http("POST", f"/opportunities/{e}/pipeline", {"pipeline": "partners"})
    http("PATCH", f"/opportunities/{e}", {"account_id": made["partner"]})


def contracts(story: Story, sold: dict[str, str]) -> None:
    """The one-off fulfilled; a renewal sold, then unlocked and lost (the renewal withdrawn);
    the others left to expire."""
    made = {
        (e.opportunity_id, e.contract_kind): e
        for _, e in story.events()
        if isinstance(e, ContractCreated)
    }
    box = made[(UUID(sold["b"]), "one_off")]
    story.http("POST", f"/contracts/{box.originator_id}/fulfil")
    running = made[(UUID(sold["a"]), "time_based")]  # one of the deal's (same term, same end)
    assert running.end is not None
    notice = datetime.combine(running.end - timedelta(days=29), time(), UTC)
    story.react(until=notice)  # renewals fall due: renewal opportunities opened
    renewal = str(renewal_opportunity_id_for(running.originator_id))
    item = {"name": "Licence", "quantity": "1", "unit_price": "300.00", "kind": "time_based"}
    renewal_quote = quote(story, renewal, item | {"term_months": 12, "category": "software"})
    story.http("POST", f"/quotes/{renewal_quote}/activate")
    story.http("POST", f"/opportunities/{renewal}/sell")
    story.react()  # renewed
    story.http("POST", f"/opportunities/{renewal}/unlock")
    story.http("POST", f"/opportunities/{renewal}/lose", {"reason": "went elsewhere"})
    story.react()  # the renewal withdrawn
    story.tick_from_the_command_line(notice + timedelta(days=60))  # the rest expire


def leads(story: Story, made: dict[str, str]) -> None:
    """Rules and campaigns by HTTP; every change of a lead from Kafka."""
    http, kafka = story.http, story.kafka
    campaign = http("POST", "/campaigns", {"name": "Webinar"})["id"]
    split = {"priority": 1, "conditions": [], "action": {"split": {"alice": 50, "bob": 50}}}
    rule = http("POST", "/lead-rules", split)["id"]
    kafka("IntakeLead", {"first_name": "Ina", "last_name": "Intake", "campaign_id": campaign})
    http("DELETE", f"/lead-rules/{rule}")
    http("POST", f"/campaigns/{campaign}/archive")
    first = str(uuid4())
    kafka("CreateLead", {"lead_id": first, "first_name": "Ada", "last_name": "L", "owner": "alice"})
    activity = str(uuid4())
    on_it = {"lead_id": first, "activity_id": activity}
    kafka("LogLeadActivity", on_it | {"kind": "call", "subject": "Hello"})
    kafka("EditLeadActivity", on_it | {"subject": "Hello again"})
    kafka("DeleteLeadActivity", on_it)
    kafka("EditLead", {"lead_id": first, "company": "Lead Co"})
    kafka("EditLead", {"lead_id": first, "email": "ada@example.org"})
    kafka("EditLead", {"lead_id": first, "private": True, "shared_with": ["bob"]})
    kafka("AssignLead", {"lead_id": first, "owner": "bob"})
    kafka("SplitLead", {"lead_id": first, "shares": {"alice": 60, "bob": 40}})
    kafka("AddLeadToAccount", {"lead_id": first, "account_name": "Lead Co"})
    kafka("AddLeadToPartner", {"lead_id": first, "partner_id": made["partner"]})
    kafka(
        "QualifyLead",
        {
            "lead_id": first,
            "opportunity_id": str(uuid4()),
            "title": "From the lead",
            "expected_close": "2027-06-30",
        },
    )
    second = str(uuid4())
    kafka("CreateLead", {"lead_id": second, "first_name": "Bo", "last_name": "L"})
    kafka("DisqualifyLead", {"lead_id": second, "status": "junk", "reason": "spam"})
    for change in ("ArchiveLead", "UnarchiveLead", "AnonymizeLead"):
        kafka(change, {"lead_id": second})


def contacts(story: Story) -> None:
    """A contact made, changed and shared by HTTP, given a role on a new deal; anonymized
    from Kafka (the qualified lead's contact was made from Kafka above)."""
    http, kafka = story.http, story.kafka
    body = {"first_name": "Cy", "last_name": "Contact", "email": "cy@example.org"}
    contact = http("POST", "/contacts", body | {"private": True, "shared_with": ["bob"]})["id"]
    http("PATCH", f"/contacts/{contact}", {"email": "cy@contact.example", "title": "Buyer"})
    with_contact = deal(story, "With a contact")
    http("POST", f"/opportunities/{with_contact}/roles", {"contact_id": contact, "role": "signer"})
    kafka("AnonymizeContact", {"contact_id": contact})


def custom_fields(story: Story) -> None:
    """Fields defined, changed and deleted by HTTP; values set on a record of each entity,
    a lead's from Kafka."""
    http, kafka = story.http, story.kafka
    for entity in ("opportunity", "lead", "contact", "account"):
        http("POST", "/custom-fields", {"entity": entity, "key": "note", "label": "Note",
                                        "type": "text"})  # fmt: skip
    http("PATCH", "/custom-fields/opportunity/note", {"label": "Deal note"})
    on_deal = deal(story, "Noted", custom={"note": "first"})
    http("PATCH", f"/opportunities/{on_deal}", {"custom": {"note": "second"}})
    lead = str(uuid4())
    kafka("CreateLead", {"lead_id": lead, "first_name": "Cf", "last_name": "L"})
    kafka("EditLead", {"lead_id": lead, "custom": {"note": "hot"}})
    body = {"first_name": "Cf", "last_name": "Contact", "custom": {"note": "met"}}
    contact = http("POST", "/contacts", body)["id"]
    http("PATCH", f"/contacts/{contact}", {"custom": {"note": "met twice"}})
    account = http("POST", "/accounts", {"name": "Noted Co", "custom": {"note": "big"}})["id"]
    http("PATCH", f"/accounts/{account}", {"custom": {"note": None}})
    http("DELETE", "/custom-fields/contact/note")


def tasks(story: Story) -> None:
    """A task made for bob, changed, given back, completed and reopened by HTTP; the
    notifications process tells bob and reminds the admin; the admin reads the reminder."""
    http = story.http
    body = {"title": "Call back", "due": "2030-01-01T15:00:00Z", "assignee": "bob"}
    task = http("POST", "/tasks", body | {"remind_before_minutes": 90})["id"]
    http("PATCH", f"/tasks/{task}", {"notes": "About the renewal"})
    http("PATCH", f"/tasks/{task}", {"due": "2030-01-02T15:00:00Z", "assignee": "admin"})
    http("POST", f"/tasks/{task}/complete")
    http("POST", f"/tasks/{task}/reopen")
    story.notify(until=datetime(2031, 1, 1, tzinfo=UTC))
    projector = story.services.projector()
    projector.start()
    projector.catch_up()
    (reminder,) = [
        n for n in http("GET", "/notifications")["items"] if n["kind"] == "task_reminder"
    ]
    http("POST", f"/notifications/{reminder['id']}/read")


def automations(story: Story) -> None:
    """An admin defines, disables, enables and deletes automations by HTTP; a deal moved into
    ``proposal`` is moved back by one, which triggers another at the maximum depth (1): that
    chain stops there."""
    http = story.http
    back = {"set_field": {"field": "stage", "value": "qualification"}}
    http(
        "POST",
        "/automations",
        {
            "name": "Back",
            "trigger": {"on": "opportunity.stage_entered", "stage": "proposal"},
            "actions": [back, {"notify": "owner", "text": "Moved back"}],
        },
    )
    http(
        "POST",
        "/automations",
        {
            "name": "Told",
            "trigger": {"on": "opportunity.stage_entered", "stage": "qualification"},
            "actions": [{"notify": "owner", "text": "Qualifying"}],
        },
    )
    gone = http(
        "POST",
        "/automations",
        {"name": "Gone", "trigger": {"on": "opportunity.won"}, "actions": [{"assign": "bob"}]},
    )["id"]
    http("POST", f"/automations/{gone}/disable")
    http("POST", f"/automations/{gone}/enable")
    http("DELETE", f"/automations/{gone}")
    made = deal(story, "Automated")
    http("POST", f"/opportunities/{made}/stage", {"stage": "proposal"})
    story.automate(max_depth=1)


def webhooks(story: Story) -> None:
    """An admin registers a webhook by HTTP; its sender, finding the endpoint refusing
    connections, disables it and tells the admin; the admin enables and deletes it."""
    http = story.http
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    body = {"url": f"http://127.0.0.1:{port}/hook", "events": ["OpportunityCreated"]}
    hook = http("POST", "/webhooks", body)["id"]
    deal(story, "Hooked")
    services = story.services
    webhook_outbox(services).catch_up()  # writes deliveries, no event
    once = msgspec.structs.replace(sender_settings(services), disable_after=1)
    sender = WebhookSender(services.store, services.bus, services.clock.now, once)
    try:
        with story.writing("webhooks", WEBHOOKS):
            assert sender.deliver_due() == 1
    finally:
        sender.close()
    http("POST", f"/webhooks/{hook}/enable")
    http("DELETE", f"/webhooks/{hook}")


def baselines(story: Story) -> None:
    projector = story.services.projector()
    projector.start()
    projector.catch_up()
    taken = story.http("POST", "/baselines", {"name": "Now", "chart": "pipeline", "params": {}})
    story.http("DELETE", f"/baselines/{taken['id']}")
    story.cli("baseline", "create", "From the command line")


# --- the test ---------------------------------------------------------------------------------


def _is_uuid(value: str | None) -> bool:
    try:
        UUID(str(value))
    except ValueError:
        return False
    return True


def test_every_event_type_says_who_did_it_as_the_path_that_wrote_it_gives_it(
    tmp_path: Path,
) -> None:
    # Given a new embedded store, opened (its defaults written by the bootstrap)
    home = tmp_path / "home"
    # (webhooks to loopback allowed: the story's receiver is this machine)
    services = bootstrap(
        settings_for("sqlite", tmp_path).model_copy(update={"webhook_allow_private": "yes"})
    )
    try:
        story = Story(services, home)
        story.written.append(Written("bootstrap", 0, story.position, BOOTSTRAP))
        # When the story runs through every path
        people(story)
        made = settings(story)
        sold = selling(story, made)
        pipelines(story, made)
        contracts(story, sold)
        leads(story, made)
        contacts(story)
        custom_fields(story)
        tasks(story)
        automations(story)
        webhooks(story)
        baselines(story)
        events = story.events()
        # (the read models rebuilt from this log: the audit rows are checked at the end)
        services.rebuild(writer="inline")
        audit = services.views.rows(AUDIT_EVENTS)
    finally:
        services.close()
    # Then every position was written by one step of the story
    path_of: dict[int, Written] = {}
    for step in story.written:
        for position in range(step.after + 1, step.upto + 1):
            path_of[position] = step
    assert sorted(path_of) == [p for p, _ in events]
    # and each event says who, in which request, caused by what, as its path gives them
    by_id = {event_id(e.originator_id, e.originator_version): (p, e) for p, e in events}
    seen: dict[str, set[str]] = {}
    for position, event in events:
        step = path_of[position]
        seen.setdefault(type(event).type_name, set()).add(step.path)
        who = (event.by, event.request_id, event.causation_id)
        assert event.request_id and event.causation_id, (position, who)
        if step.path == "automations":  # one of them, the chain's first event and depth
            assert (event.by or "").startswith(AUTOMATION), (position, who)
            _, root, depth = event.request_id.split(":")
            assert _is_uuid(root) and int(depth) >= 1, (position, who)
            cause_position, cause = by_id[UUID(event.causation_id)]
            assert cause_position < position and type(cause).type_name in AUTOMATION_TRIGGERS
            continue
        assert event.by in (step.by, step.also), (position, type(event).__name__, who, step)
        if step.path == "http":  # the request's id; the command's own id as the cause
            assert event.request_id == step.request_id, (position, who, step)
            assert _is_uuid(event.causation_id) and event.causation_id != event.request_id
        elif step.path == "kafka":  # the command id, for both
            assert event.request_id == event.causation_id == step.request_id, (position, who)
        elif step.path in ("cli", "bootstrap"):  # each command its own request and cause
            assert _is_uuid(event.request_id) and event.causation_id == event.request_id
        else:  # a process: the event it reacted to, or a timer's own command
            assert _is_uuid(event.request_id)
            if event.causation_id != event.request_id:
                cause_position, cause = by_id[UUID(event.causation_id)]
                assert cause_position < position
                triggers = PROCESS_TRIGGERS if event.by == CONTRACTS else NOTICE_TRIGGERS
                assert type(cause).type_name in triggers, (position, who)
    # and the commands of one request (or one message) share their cause
    for step in story.written:
        if step.path in ("http", "kafka") and step.upto > step.after:
            causes = {e.causation_id for p, e in events if step.after < p <= step.upto}
            assert len(causes) == 1, step
    # And the story wrote every event type of the registry, each through a real path
    registry = {
        name
        for name, cls in registered_event_types().items()
        if cls.__module__.startswith("domain.")
    }
    assert set(seen) == registry, {
        "never written": sorted(registry - set(seen)),
        "not registered": sorted(set(seen) - registry),
    }
    # (every path of the table took part)
    paths = {"http", "kafka", "cli", "contracts", "notifications", "automations", "webhooks"}
    paths.add("bootstrap")
    assert set().union(*seen.values()) == paths
    # And the audit read model holds for every event the row of its fully decoded event —
    # who, when, in which request, caused by what, its type, aggregate and version —
    # though a rebuild decodes only the envelope of an event no other read model reads (a
    # deal's activity, a business role…)
    assert audit == [
        (
            position,
            event.by,
            micros(event.recorded_at),
            event.request_id,
            event.causation_id,
            type(event).type_name,
            str(event.originator_id),
            event.originator_version,
        )
        for position, event in events
    ]
    bodies = Projection.empty(SLICES).bodies
    enveloped = {name for name in seen if topic_of(event_class(name)) not in bodies}
    assert {"SalesActivityLogged", "BusinessRoleAdded"} <= enveloped
