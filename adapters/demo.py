"""``crmledger demo``: a realistic, reproducible sales history in the embedded store.

The history is simulated over the past 120 days on a manual clock, so events
carry plausible recorded times. The data set is the same on every run (a
seeded random generator), only its dates move with today. The demo replaces
only a store it made (``adapters.demo_store``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TextIO

from adapters.bootstrap import Services, bootstrap
from adapters.cli_charts import chart_output
from adapters.cli_output import render, table_text
from adapters.clock import ManualClock
from adapters.demo_contacts import contact_rows
from adapters.demo_sales import Made, seed
from adapters.demo_store import DemoStoreInUse, prepare_home, record_demo
from adapters.settings import Settings
from adapters.store_lock import StoreLock
from domain.opportunity import Opportunity
from readmodels.contracts.queries import ContractFilters, summary
from readmodels.deals.analytics import Analytics
from readmodels.deals.specs import spec_from_params
from readmodels.leads.queries import LeadFilters, campaign_report
from readmodels.leads.queries import summary as lead_summary

__all__ = ["DemoStoreInUse", "Made", "run_demo", "seed"]


def run_demo(settings: Settings, out: TextIO, *, today: datetime | None = None) -> Made:
    embedded = settings.model_copy(update={"database_url": None})
    home = embedded.home
    # Held until the demo is done: no other process may open the store meanwhile, and the
    # demo deletes nothing another process has open.
    with StoreLock(home, "exclusive", "the demo") as lock:
        prepare_home(embedded, lock, out)
        now = today or datetime.now(UTC)
        clock = ManualClock(now - timedelta(days=120))
        services = bootstrap(embedded, clock=clock, lock=lock)
        try:
            made = seed(services, clock, now, out)
            _summary(services, made, out)
            record_demo(embedded, services.event_log)
        finally:
            services.close()
    return made


def _summary(services: Services, made: Made, out: TextIO) -> None:
    states = [services.store.load(oid) for oid in made.opportunities]
    opps = [s for s in states if isinstance(s, Opportunity)]
    print("", file=out)
    print(
        f"Made {made.products} products and bundles, {len(made.accounts)} accounts, "
        f"{len(opps)} opportunities, {made.quotes} quotes with {made.items} items, "
        f"{made.offers} offers, {len(made.leads)} leads, {made.contacts} contacts by hand "
        f"({made.commands} commands, {services.store.max_position()} events).",
        file=out,
    )
    print(f"Store: {services.settings.event_store_path}", file=out)
    # The sales become contracts; timers due by today fire (renewals of early sales).
    contracts = services.contracts_process()
    contracts.catch_up()
    contracts.tick(services.clock.now())
    contracts.catch_up()
    projector = services.projector()
    projector.start()
    projector.catch_up()
    analytics = Analytics(services.queries)
    pipeline = analytics.answer(spec_from_params("pipeline", {}), as_of=None, wait_for=None)
    forecast = analytics.answer(
        spec_from_params("forecast", {"period": "quarter"}), as_of=None, wait_for=None
    )
    print("\nPipeline " + render(chart_output("pipeline", pipeline), "table"), end="", file=out)
    print("\nForecast by quarter and owner", file=out)
    print(
        table_text(
            forecast["rollups"],
            ("period", "owner", "commit", "best_case", "open_pipeline", "won"),
        ),
        file=out,
    )
    by_status = summary(services.views, ContractFilters(), None, "status")
    print("\nContracts by status (from the sales, by the contracts process manager)", file=out)
    print(table_text(by_status, ("status", "currency", "count", "value")), file=out)
    by_lead_status = lead_summary(services.views, LeadFilters(), None, "status")
    print("\nLeads by status (from the lead processor's intake)", file=out)
    print(table_text(by_lead_status, ("status", "count")), file=out)
    print("\nCampaigns: conversion = qualified / leads", file=out)
    print(
        table_text(
            campaign_report(services.views, None),
            ("name", "leads", "qualified", "disqualified", "conversion", "opportunities"),
        ),
        file=out,
    )
    contacts = contact_rows(services)
    from_leads = sum(1 for c in contacts if c["made"] == "from a lead")
    print(
        f"\nContacts: {len(contacts) - from_leads} at the accounts, {from_leads} made by "
        "qualifying leads (names opened from their sealed copies; each read is in the access "
        "log)",
        file=out,
    )
    print(table_text(contacts, ("name", "title", "account", "owner", "made", "id")), file=out)
    sold = [o for o in opps if o.status == "won"]
    print("\nSold:", file=out)
    for o in sold:
        print(f"  {o.title:<34} {o.owner:<6} {o.amount}  (id {o.id})", file=out)
    print(
        "\nNext: `crmledger serve`; a token for a user (here the admin): "
        "`TOKEN=$(crmledger users token admin)`; then, with "
        '`-H "authorization: Bearer $TOKEN"`, e.g. '
        '`curl -H "authorization: Bearer $TOKEN" localhost:8000/pipeline`: '
        "GET /pipeline, GET /forecast, GET /contracts, "
        "GET /opportunities/<id>, GET /contacts/<id>, GET /leads or GET /campaigns/report; "
        "`crmledger tick --until 2028-01-01 --dry-run` lists the renewals and expiries due "
        "by then (without --dry-run, tick writes them for good); "
        "`crmledger history <id>`.",
        file=out,
    )
