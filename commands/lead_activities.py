"""Commands on a lead's sales activities: log (the first one starts work on the lead),
edit, delete."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from commands.bus import Answer, Handlers
from commands.unit_of_work import UnitOfWork
from domain import lead as rules
from domain.lead import Lead


class LogLeadActivity(msgspec.Struct, frozen=True, kw_only=True):
    lead_id: UUID
    activity_id: UUID
    kind: str
    subject: str
    occurred_at: datetime | None = None
    notes: str | None = None


class EditLeadActivity(msgspec.Struct, frozen=True, kw_only=True):
    lead_id: UUID
    activity_id: UUID
    kind: str | None = None
    subject: str | None = None
    occurred_at: datetime | None = None
    notes: str | None = None


class DeleteLeadActivity(msgspec.Struct, frozen=True, kw_only=True):
    lead_id: UUID
    activity_id: UUID


def log_lead_activity(uow: UnitOfWork, command: LogLeadActivity) -> Answer:
    lead = uow.get(Lead, command.lead_id)
    uow.record(
        lead.id,
        rules.log_activity(
            lead,
            activity_id=command.activity_id,
            kind=command.kind,
            subject=command.subject,
            occurred_at=command.occurred_at or uow.now,
            notes=command.notes,
        ),
    )
    return Answer(id=lead.id, extra={"activity_id": str(command.activity_id)})


def edit_lead_activity(uow: UnitOfWork, command: EditLeadActivity) -> Answer:
    lead = uow.get(Lead, command.lead_id)
    uow.record(
        lead.id,
        rules.edit_activity(
            lead,
            command.activity_id,
            kind=command.kind,
            subject=command.subject,
            occurred_at=command.occurred_at,
            notes=command.notes,
        ),
    )
    return Answer(id=lead.id)


def delete_lead_activity(uow: UnitOfWork, command: DeleteLeadActivity) -> Answer:
    lead = uow.get(Lead, command.lead_id)
    uow.record(lead.id, rules.delete_activity(lead, command.activity_id))
    return Answer(id=lead.id)


HANDLERS: Handlers = {
    LogLeadActivity: log_lead_activity,
    EditLeadActivity: edit_lead_activity,
    DeleteLeadActivity: delete_lead_activity,
}
