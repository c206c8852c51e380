"""Read-model table names, for tests that drop, scan or compare them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.readmodel_store import tables_of
from readmodels import SLICES
from readmodels.accounts.tables import ACCOUNT_VERSIONS
from readmodels.audit.tables import AUDIT_EVENTS
from readmodels.bookkeeping import DEAD_LETTERS, SETTINGS
from readmodels.contacts.tables import CONTACT_VERSIONS
from readmodels.contracts.tables import CONTRACT_VERSIONS
from readmodels.custom_fields.tables import CUSTOM_FIELD_VERSIONS
from readmodels.deals.tables import (
    BASELINES,
    CHECKPOINTS,
    OPPORTUNITIES,
    RATES,
    STAGES,
    TARGETS,
    VISITS,
)
from readmodels.leads.tables import CAMPAIGN_OPPORTUNITIES, CAMPAIGN_VERSIONS, LEAD_VERSIONS
from readmodels.opportunities.tables import OPPORTUNITY_VERSIONS
from readmodels.quotes.tables import QUOTE_VERSIONS

if TYPE_CHECKING:
    from adapters.bootstrap import Services

ALL_TABLES = tuple(t.name for t in tables_of(SLICES))
# The deals projection's rows (its checkpoints included) and the projector's bookkeeping.
DEALS_TABLES = (
    OPPORTUNITIES,
    VISITS,
    STAGES,
    RATES,
    TARGETS,
    BASELINES,
    CHECKPOINTS,
    SETTINGS,
    DEAD_LETTERS,
)
# The projector's tables compared row for row with a fresh rebuild, every slice's.
PROJECTOR_TABLES = (
    *(t for t in DEALS_TABLES if t != SETTINGS),
    CONTRACT_VERSIONS,
    LEAD_VERSIONS,
    CAMPAIGN_VERSIONS,
    CAMPAIGN_OPPORTUNITIES,
    CONTACT_VERSIONS,
    OPPORTUNITY_VERSIONS,
    QUOTE_VERSIONS,
    ACCOUNT_VERSIONS,
    CUSTOM_FIELD_VERSIONS,
    AUDIT_EVENTS,
)
# What the Kafka-side projector writes of them (it takes no checkpoints).
KAFKA_TABLES = tuple(t for t in PROJECTOR_TABLES if t != CHECKPOINTS)


def deals_rows(services: Services) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the deals tables, by table."""
    return {name: services.views.rows(name) for name in DEALS_TABLES}
