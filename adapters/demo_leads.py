"""The demo's front of the funnel: campaigns, intake rules, leads through the lead processor."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TextIO
from uuid import UUID, uuid4

from adapters.clock import ManualClock
from commands import leads as ld
from commands.campaigns import CreateCampaign
from commands.lead_activities import LogLeadActivity
from commands.lead_intake import AddLeadRule, IntakeLead
from domain.lead_routing import Condition
from domain.money import Money

FIRST_NAMES = ("Ada", "Bruno", "Chiara", "Dmitri", "Elif", "Femi", "Greta", "Hugo", "Ines", "Jonas")
LAST_NAMES = (
    "Berg",
    "Costa",
    "Dahl",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ivanova",
    "Jansen",
)
COMPANIES = ("Quartz Robotics GmbH", "Riverbend Foods BV", "Solace Clinics AB", "Tundra Mining Oy")
INDUSTRIES = ("banking", "retail", "health", "manufacturing")


def seed_leads(
    do: Callable[[object], UUID],
    owner_of: Callable[[UUID], str | None],
    clock: ManualClock,
    end: datetime,
    out: TextIO,
    *,
    count: int = 40,
) -> list[UUID]:
    """Leads from the clock's now until ``end``: a webinar and a trade-fair campaign, three
    rules (banking leads go to alice, urgent ones are flagged, web leads are split
    50/30/20), some duplicates, some qualified into opportunities, some disqualified, one
    anonymized."""
    rng = random.Random(5)
    print(f"Seeding {count} leads through the lead processor…", file=out)
    webinar = do(CreateCampaign(campaign_id=uuid4(), name="Spring webinar", channel="web"))
    fair = do(CreateCampaign(campaign_id=uuid4(), name="Logistics fair", channel="event"))
    do(
        AddLeadRule(
            rule_id=uuid4(),
            priority=10,
            conditions=(Condition(field="industry", op="eq", value="banking"),),
            assign="alice",
        )
    )
    do(
        AddLeadRule(
            rule_id=uuid4(),
            priority=20,
            conditions=(Condition(field="budget", op="in", value=("large", "enterprise")),),
            set_priority="urgent",
        )
    )
    do(
        AddLeadRule(
            rule_id=uuid4(),
            priority=30,
            conditions=(Condition(field="source", op="eq", value="web"),),
            split={"bob": 50, "carol": 30, "dave": 20},
        )
    )
    leads: list[UUID] = []
    step = max((end - clock.now()) / (count + 1), timedelta(seconds=1))
    for n in range(count):
        clock.advance(step)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        again = leads and rng.random() < 0.1
        email = f"{first}.{last}{n if not again else n - 1}@example.com".lower()
        lead = do(
            IntakeLead(
                lead_id=uuid4(),
                first_name=first,
                last_name=last,
                # A tenth arrive twice, typed differently: linked to the first as duplicates.
                email=email.upper() if again else email,
                company=rng.choice(COMPANIES),
                source=rng.choice(("web", "web", "fair", "referral")),
                campaign_id=rng.choice((webinar, fair)),
                extra={
                    "industry": rng.choice(INDUSTRIES),
                    "budget": rng.choice(("small", "medium", "large", "enterprise")),
                },
            )
        )
        leads.append(lead)
        fate = rng.random()
        if fate < 0.5:
            do(
                LogLeadActivity(
                    lead_id=lead, activity_id=uuid4(), kind="call", subject="Intro call"
                )
            )
        if fate < 0.2:
            do(
                ld.QualifyLead(
                    lead_id=lead,
                    opportunity_id=uuid4(),
                    title=f"Lead {n + 1}: first project",
                    expected_close=(end + timedelta(days=rng.randint(20, 90))).date(),
                    amount=Money.of(str(rng.randint(8, 60) * 1000), "EUR"),
                    # A pooled lead is qualified by whoever picks it up.
                    owner=None if owner_of(lead) else "erin",
                )
            )
        elif fate > 0.85:
            do(ld.DisqualifyLead(lead_id=lead, status="not_interested", reason="no budget"))
    # One person asked to be forgotten.
    do(ld.AnonymizeLead(lead_id=leads[3]))
    return leads
