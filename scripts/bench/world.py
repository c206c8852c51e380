"""The simulated company: who sells what, to whom, and the units of simulated time."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

from domain.product import ItemKind, ProductCategory

# 3: every event says who caused it (users, a command-line import, the bootstrap), in
# which request; the users are in the log.
GENERATOR_VERSION = 3
HISTORY_START = datetime(2023, 4, 3, 8, 0, tzinfo=UTC)
HISTORY_YEARS = 2.5
# Calibrated on this generator: events per opportunity (those still open at the end of the
# history included); arrivals adapt, so an error here only shifts the span a little.
EVENTS_PER_DEAL = 27.0
DAY = 86_400.0
HOUR = 3_600.0
MINUTE = 60.0

OWNERS = (
    "alice", "bob", "carol", "dave", "erin", "frank",
    "grace", "heidi", "ivan", "judy", "mallory", "oscar",
)  # fmt: skip
OWNER_WEIGHTS = (9, 8, 8, 7, 7, 6, 6, 5, 5, 4, 3, 2)
# Who does what besides the reps (each rep works their own deals): two managers, each
# over half the reps, set their team's targets and reassign deals; an admin keeps the
# reference data and stage settings; the daily USD rate comes from a command-line import;
# the store's defaults are its bootstrap's.
TEAMS = {"maria": OWNERS[:6], "nils": OWNERS[6:]}
MANAGER_OF = {rep: manager for manager, reps in TEAMS.items() for rep in reps}
ADMIN = "petra"
RATES_IMPORT = "cli:ops"
BOOTSTRAP = "system:bootstrap"
# code, name, category, kind, term, unit, EUR price
PRODUCTS: tuple[tuple[str, str, ProductCategory, ItemKind, int | None, str, str], ...] = (
    ("CRM-LIC", "CRM licence", "software", "time_based", 12, "user", "25.00"),
    ("CRM-PRO", "CRM Professional licence", "software", "time_based", 12, "user", "42.00"),
    ("CRM-ENT", "CRM Enterprise licence", "software", "time_based", 36, "user", "61.00"),
    ("ANALYTICS", "Sales analytics add-on", "software", "time_based", 12, "user", "9.50"),
    ("API-PACK", "API call pack", "software", "one_off", None, "pack", "1900.00"),
    ("SUP-STD", "Standard support", "support", "time_based", 12, "contract", "4800.00"),
    ("SUP-PREM", "Premium support", "support", "time_based", 24, "contract", "12500.00"),
    ("IMPL-DAY", "Implementation day", "implementation", "one_off", None, "day", "1150.00"),
    ("TRAINING", "Training workshop", "implementation", "one_off", None, "session", "2400.00"),
    ("MIGRATION", "Data migration", "implementation", "one_off", None, "project", "8700.00"),
)
BUNDLE = ("STARTER", "Starter pack", (("CRM-LIC", 60), ("SUP-STD", 25), ("IMPL-DAY", 15)))
BUNDLE_PRICE = Decimal("18900.00")
USD_PER_EUR = Decimal("1.087")
_NAME_A = (
    "Acme", "Borealis", "Cobalt", "Delta", "Evergreen", "Fjord", "Granite", "Helios", "Ionic",
    "Juniper", "Kestrel", "Lumen", "Meridian", "Nordic", "Orion", "Polar", "Quartz", "Riverside",
    "Summit", "Tundra", "Umbra", "Vertex", "Willow", "Xenon", "Yarrow", "Zephyr", "Atlas", "Beacon",
    "Cascade", "Dynamo", "Ember", "Falcon", "Glacier", "Harbor", "Indigo", "Jasper", "Keystone",
    "Lighthouse", "Monarch", "Nimbus",
)  # fmt: skip
_NAME_B = (
    "Logistics", "Energy", "Insurance", "Freight", "Foods", "Maritime", "Bank", "Solar", "Pharma",
    "Retail", "Aviation", "Telecom", "Health", "Timber", "Media", "Analytics", "Robotics",
    "Textiles", "Chemicals", "Mining", "Software", "Hotels", "Motors", "Water", "Consulting",
)  # fmt: skip
_NAME_C = ("GmbH", "AG", "SA", "plc", "Ltd", "Inc", "BV", "AB", "Oy", "SpA", "SRL", "A/S")
DEAL_KINDS = (
    "CRM rollout", "expansion", "renewal", "analytics", "support upgrade",
    "migration", "pilot", "enterprise licence",
)  # fmt: skip
LOSS_REASONS = ("price", "competitor", "no budget", "no decision", "timing")
CONTACT_ROLES = ("decision_maker", "champion", "economic_buyer", "technical_evaluator", "user")


def _days(rng: random.Random, low: float, high: float) -> float:
    return rng.uniform(low, high) * DAY
