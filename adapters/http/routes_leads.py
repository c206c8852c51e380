"""Lead, lead-intake, lead-rule and campaign routes.

A lead's personal fields are read from the event store, opened with the lead's
key for this request only; once the lead is anonymized they are null and
``anonymized`` is true. For analysts and auditors they are null too, with
``masked`` true; anyone else's read of them is written to the access log first
(``personal_reads``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from adapters.bootstrap import Services
from adapters.http import bodies_leads as bodies
from adapters.http.answers import ReadAnswer
from adapters.http.bodies_campaigns import CampaignBody
from adapters.http.commanding import CommandHeaders, command_headers, run
from adapters.http.personal_reads import log_personal_reads, masked
from adapters.http.reading import reads
from adapters.http.routes_catalogue import load
from adapters.http.routes_custom_fields import custom_shown
from commands import leads as lead_cmd
from commands.campaigns import ArchiveCampaign
from commands.lead_activities import DeleteLeadActivity, EditLeadActivity, LogLeadActivity
from commands.lead_intake import RemoveLeadRule
from domain.campaign import Campaign
from domain.ids import LEAD_ROUTING_ID
from domain.lead import Lead
from domain.lead_routing import LeadRouting

router = APIRouter()
Headers = Depends(command_headers)
PERSONAL = ("first_name", "last_name", "email", "phone", "address", "notes")


def lead_view(lead: Lead, *, masking: bool = False) -> dict[str, Any]:
    """The lead as the API shows it; ``masking``: without its personal data (null)."""
    personal = None if masking else lead.personal
    return {
        "id": str(lead.id),
        "version": lead.version,
        **{name: None if personal is None else getattr(personal, name) for name in PERSONAL},
        "extra": None if personal is None else dict(personal.extra),
        "anonymized": lead.anonymized,
        "masked": masking,
        "company": lead.company,
        "source": lead.source,
        "campaign_id": str(lead.campaign_id) if lead.campaign_id else None,
        "owner": lead.owner,
        "shares": [{"user": s.user, "percent": s.percent} for s in lead.shares],
        "pool": lead.in_pool,
        "partner_id": str(lead.partner_id) if lead.partner_id else None,
        "account_id": str(lead.account_id) if lead.account_id else None,
        "priority": lead.priority,
        "status": lead.status,
        "disqualified_as": lead.disqualified_as,
        "disqualify_reason": lead.disqualify_reason,
        "opportunity_id": str(lead.opportunity_id) if lead.opportunity_id else None,
        "duplicate_of": str(lead.duplicate_of) if lead.duplicate_of else None,
        "routed_by_rule": str(lead.routed_by_rule) if lead.routed_by_rule else None,
        "archived": lead.archived,
        "private": lead.private,
        "shared_with": list(lead.shared_with),
        "activities": [
            {
                "id": str(a.id),
                "kind": a.kind,
                "occurred_at": a.occurred_at.isoformat(),
                "subject": None if masking else a.subject,
                "notes": None if masking else a.notes,
            }
            for a in lead.activities
        ],
    }


# --- leads -----------------------------------------------------------------------------


@router.post("/leads", status_code=201, tags=["leads"])
def create_lead(
    request: Request, body: bodies.LeadBody, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command())


@router.post("/lead-intake", status_code=201, tags=["leads"])
def intake_lead(
    request: Request, body: bodies.IntakeBody, h: CommandHeaders = Headers
) -> JSONResponse:
    """The lead processor: duplicate detection, then the rules, else the free pool."""
    return run(request, h, body.to_command())


@router.get("/leads/{lead_id}", tags=["leads"], dependencies=[reads("a lead")])
def get_lead(request: Request, lead_id: UUID) -> ReadAnswer:
    lead = load(request, Lead, lead_id)
    masking = masked(request)
    if not masking and lead.personal is not None:
        log_personal_reads(request, [lead.id])
    services: Services = request.app.state.services
    return {
        **lead_view(lead, masking=masking),
        "custom": custom_shown(services, "lead", lead.custom),
    }


@router.patch("/leads/{lead_id}", tags=["leads"])
def edit_lead(
    request: Request, lead_id: UUID, body: bodies.LeadPatch, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command(lead_id), target=lead_id)


@router.post("/leads/{lead_id}/assign", tags=["leads"])
def assign_lead(
    request: Request, lead_id: UUID, body: bodies.AssignBody, h: CommandHeaders = Headers
) -> JSONResponse:
    command = lead_cmd.AssignLead(lead_id=lead_id, owner=body.owner)
    return run(request, h, command, target=lead_id)


@router.post("/leads/{lead_id}/split", tags=["leads"])
def split_lead(
    request: Request, lead_id: UUID, body: bodies.SplitBody, h: CommandHeaders = Headers
) -> JSONResponse:
    command = lead_cmd.SplitLead(lead_id=lead_id, shares=body.shares)
    return run(request, h, command, target=lead_id)


@router.post("/leads/{lead_id}/activities", tags=["leads"])
def log_lead_activity(
    request: Request, lead_id: UUID, body: bodies.LeadActivityBody, h: CommandHeaders = Headers
) -> JSONResponse:
    command = LogLeadActivity(
        lead_id=lead_id,
        activity_id=uuid4(),
        kind=body.kind,
        subject=body.subject,
        occurred_at=body.occurred_at,
        notes=body.notes,
    )
    return run(request, h, command, target=lead_id)


@router.patch("/leads/{lead_id}/activities/{activity_id}", tags=["leads"])
def edit_lead_activity(
    request: Request,
    lead_id: UUID,
    activity_id: UUID,
    body: bodies.LeadActivityPatch,
    h: CommandHeaders = Headers,
) -> JSONResponse:
    command = EditLeadActivity(
        lead_id=lead_id,
        activity_id=activity_id,
        kind=body.kind,
        subject=body.subject,
        occurred_at=body.occurred_at,
        notes=body.notes,
    )
    return run(request, h, command, target=lead_id)


@router.delete("/leads/{lead_id}/activities/{activity_id}", tags=["leads"])
def delete_lead_activity(
    request: Request, lead_id: UUID, activity_id: UUID, h: CommandHeaders = Headers
) -> JSONResponse:
    command = DeleteLeadActivity(lead_id=lead_id, activity_id=activity_id)
    return run(request, h, command, target=lead_id)


@router.post("/leads/{lead_id}/account", tags=["leads"])
def add_lead_to_account(
    request: Request, lead_id: UUID, body: bodies.LeadAccountBody, h: CommandHeaders = Headers
) -> JSONResponse:
    command = lead_cmd.AddLeadToAccount(
        lead_id=lead_id, account_id=body.account_id, account_name=body.account_name
    )
    return run(request, h, command, target=lead_id)


@router.post("/leads/{lead_id}/partner", tags=["leads"])
def add_lead_to_partner(
    request: Request, lead_id: UUID, body: bodies.LeadPartnerBody, h: CommandHeaders = Headers
) -> JSONResponse:
    command = lead_cmd.AddLeadToPartner(lead_id=lead_id, partner_id=body.partner_id)
    return run(request, h, command, target=lead_id)


@router.post("/leads/{lead_id}/qualify", tags=["leads"])
def qualify_lead(
    request: Request, lead_id: UUID, body: bodies.QualifyBody, h: CommandHeaders = Headers
) -> JSONResponse:
    """Creates the opportunity (and the account when new) in the same atomic save."""
    return run(request, h, body.to_command(lead_id), target=lead_id)


@router.post("/leads/{lead_id}/disqualify", tags=["leads"])
def disqualify_lead(
    request: Request, lead_id: UUID, body: bodies.DisqualifyBody, h: CommandHeaders = Headers
) -> JSONResponse:
    command = lead_cmd.DisqualifyLead(
        lead_id=lead_id, status=body.status, reason=body.reason, effective_at=body.effective_at
    )
    return run(request, h, command, target=lead_id)


@router.post("/leads/{lead_id}/archive", tags=["leads"])
def archive_lead(request: Request, lead_id: UUID, h: CommandHeaders = Headers) -> JSONResponse:
    return run(request, h, lead_cmd.ArchiveLead(lead_id=lead_id), target=lead_id)


@router.post("/leads/{lead_id}/unarchive", tags=["leads"])
def unarchive_lead(request: Request, lead_id: UUID, h: CommandHeaders = Headers) -> JSONResponse:
    return run(request, h, lead_cmd.UnarchiveLead(lead_id=lead_id), target=lead_id)


@router.post("/leads/{lead_id}/anonymize", tags=["leads"])
def anonymize_lead(request: Request, lead_id: UUID, h: CommandHeaders = Headers) -> JSONResponse:
    """Destroys the lead's key: its personal data is unreadable everywhere, for good."""
    return run(request, h, lead_cmd.AnonymizeLead(lead_id=lead_id), target=lead_id)


# --- lead rules ------------------------------------------------------------------------


@router.post("/lead-rules", status_code=201, tags=["leads"])
def add_lead_rule(
    request: Request, body: bodies.LeadRuleBody, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command())


@router.get("/lead-rules", tags=["leads"], dependencies=[reads("the lead rules")])
def list_lead_rules(request: Request) -> ReadAnswer:
    """The rules in the order the lead processor tries them, with each split's counts."""
    services: Services = request.app.state.services
    routing = services.store.load(LEAD_ROUTING_ID)
    if not isinstance(routing, LeadRouting):
        return []
    views = []
    for rule in routing.rules:
        action = rule.action
        split = action.split or ()
        views.append(
            {
                "id": str(rule.id),
                "priority": rule.priority,
                "conditions": [
                    {
                        "field": c.field,
                        "op": c.op,
                        "value": c.value if isinstance(c.value, str) else list(c.value),
                    }
                    for c in rule.conditions
                ],
                "action": (
                    {"assign": action.assign}
                    if action.assign is not None
                    else {"partner": str(action.partner)}
                    if action.partner is not None
                    else {"priority": action.priority}
                    if action.priority is not None
                    else {"split": {s.user: s.percent for s in split}}
                ),
                "counts": {s.user: c for s, c in zip(split, rule.counts, strict=True)} or None,
            }
        )
    return views


@router.delete("/lead-rules/{rule_id}", tags=["leads"])
def remove_lead_rule(request: Request, rule_id: UUID, h: CommandHeaders = Headers) -> JSONResponse:
    return run(request, h, RemoveLeadRule(rule_id=rule_id))


# --- campaigns ----------------------------------------------------------------------


@router.post("/campaigns", status_code=201, tags=["campaigns"])
def create_campaign(
    request: Request, body: CampaignBody, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command())


@router.get("/campaigns/{campaign_id}", tags=["campaigns"], dependencies=[reads("a campaign")])
def get_campaign(request: Request, campaign_id: UUID) -> ReadAnswer:
    campaign = load(request, Campaign, campaign_id)
    return {
        "id": str(campaign.id),
        "version": campaign.version,
        "name": campaign.name,
        "channel": campaign.channel,
        "starts_on": campaign.starts_on.isoformat() if campaign.starts_on else None,
        "ends_on": campaign.ends_on.isoformat() if campaign.ends_on else None,
        "archived": campaign.archived,
    }


@router.post("/campaigns/{campaign_id}/archive", tags=["campaigns"])
def archive_campaign(
    request: Request, campaign_id: UUID, h: CommandHeaders = Headers
) -> JSONResponse:
    command = ArchiveCampaign(campaign_id=campaign_id)
    return run(request, h, command, target=campaign_id)
