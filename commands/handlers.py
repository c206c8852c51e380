"""Every command the bus runs, and its handler: the one place the tables come together.

Each commands module lists its own handlers in ``HANDLERS``; ``all_handlers`` merges
them. Whoever builds a ``CommandBus`` (the composition root in ``adapters.bootstrap``,
tests) passes it this table; nothing registers itself on import.
"""

from __future__ import annotations

from typing import Any

from commands import (
    accounts,
    automation_runs,
    automations,
    campaigns,
    contacts,
    contracts,
    custom_fields,
    lead_activities,
    lead_intake,
    leads,
    notifications,
    opportunities,
    pipelines,
    quotes,
    read_model_commands,
    reference_data,
    sharing,
    tasks,
    users,
)
from commands import webhooks as webhook_commands
from commands.bus import Handler, Handlers

TABLES: tuple[Handlers, ...] = (
    reference_data.HANDLERS,
    pipelines.HANDLERS,
    accounts.HANDLERS,
    opportunities.HANDLERS,
    quotes.HANDLERS,
    leads.HANDLERS,
    contacts.HANDLERS,
    lead_activities.HANDLERS,
    lead_intake.HANDLERS,
    campaigns.HANDLERS,
    contracts.HANDLERS,
    read_model_commands.HANDLERS,
    sharing.HANDLERS,
    users.HANDLERS,
    custom_fields.HANDLERS,
    automations.HANDLERS,
    automation_runs.HANDLERS,
    tasks.HANDLERS,
    notifications.HANDLERS,
    webhook_commands.HANDLERS,
)


def all_handlers() -> Handlers:
    """The merged table; a command type listed twice is a mistake, refused here."""
    merged: dict[type[Any], Handler[Any]] = {}
    for table in TABLES:
        for command_type, handler in table.items():
            if command_type in merged:
                raise TypeError(f"{command_type.__name__} has two handlers")
            merged[command_type] = handler
    return merged
