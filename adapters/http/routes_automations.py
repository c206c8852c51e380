"""Automation routes (an admin's settings): define, list, disable, enable, delete.

The list is read from the event store (the automations' catalogue and each automation),
not a read model: it answers at once, runs and chain stops included.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from adapters.bootstrap import Services
from adapters.http.answers_automations import automation_shown
from adapters.http.bodies_automations import AutomationBody
from adapters.http.commanding import CommandHeaders, command_headers, run
from adapters.http.reading import reads
from commands.automations import DeleteAutomation, DisableAutomation, EnableAutomation
from domain.automation import CATALOGUE_ID, Automation, AutomationCatalogue

router = APIRouter(tags=["automations"])
Headers = Depends(command_headers)
AutomationId = Annotated[UUID, Path(description="The automation's id")]


@router.post("/automations", status_code=201)
def define_automation(
    request: Request, body: AutomationBody, h: CommandHeaders = Headers
) -> JSONResponse:
    """Define an automation (enabled): when its trigger happens, its actions run, once per
    triggering event, by the automations process."""
    return run(request, h, body.to_command())


@router.get("/automations", dependencies=[reads("the automations")])
def list_automations(request: Request) -> Any:
    """Every automation not deleted, with its status, runs and last chain stop."""
    services: Services = request.app.state.services
    listed = services.store.load(CATALOGUE_ID)
    ids = listed.automation_ids if isinstance(listed, AutomationCatalogue) else ()
    found = [services.store.load(automation_id) for automation_id in ids]
    return {
        "items": [automation_shown(a) for a in found if isinstance(a, Automation) and not a.deleted]
    }


@router.post("/automations/{automation_id}/disable")
def disable_automation(
    request: Request, automation_id: AutomationId, h: CommandHeaders = Headers
) -> JSONResponse:
    """Disable it: events after this trigger it no more (idle timers set meanwhile lapse)."""
    command = DisableAutomation(automation_id=automation_id)
    return run(request, h, command, target=automation_id)


@router.post("/automations/{automation_id}/enable")
def enable_automation(
    request: Request, automation_id: AutomationId, h: CommandHeaders = Headers
) -> JSONResponse:
    """Enable it again: events after this trigger it."""
    command = EnableAutomation(automation_id=automation_id)
    return run(request, h, command, target=automation_id)


@router.delete("/automations/{automation_id}")
def delete_automation(
    request: Request, automation_id: AutomationId, h: CommandHeaders = Headers
) -> JSONResponse:
    """Delete it: it triggers no more and is no longer listed (its history stays)."""
    command = DeleteAutomation(automation_id=automation_id)
    return run(request, h, command, target=automation_id)
