"""The leads slice: every version of every lead and campaign, and campaigns' opportunities."""

from __future__ import annotations

from collections.abc import Mapping

from domain.events import DomainEvent
from readmodels.leads.evolve import HANDLERS, Leads
from readmodels.leads.tables import CAMPAIGN_OPPORTUNITIES, TABLES
from readmodels.slice import Handler, Progress, Rows, Table, Write


class LeadsSlice:
    name = "leads"
    tables: tuple[Table, ...] = TABLES

    @property
    def handlers(self) -> Mapping[type[DomainEvent], Handler[Leads]]:
        return HANDLERS

    def empty(self, progress: Progress) -> Leads:
        return Leads()

    def load(self, rows: Rows, progress: Progress) -> Leads:
        state = Leads()
        state.leads.load(rows)
        state.campaigns.load(rows)
        return state

    def flush(self, state: Leads) -> list[Write]:
        writes = [*state.leads.flush(), *state.campaigns.flush()]
        if state.campaign_opportunities:
            writes.append(
                Write(CAMPAIGN_OPPORTUNITIES, "insert", list(state.campaign_opportunities))
            )
            state.campaign_opportunities.clear()
        return writes
