"""Opportunity, quote, document and history routes."""

from __future__ import annotations

from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from adapters.bootstrap import Services
from adapters.http import bodies_sales as bodies
from adapters.http.answers import ReadAnswer
from adapters.http.commanding import CommandHeaders, command_headers, run
from adapters.http.personal_reads import log_personal_reads, masked
from adapters.http.reading import reads
from adapters.http.routes_catalogue import load
from adapters.http.routes_custom_fields import custom_shown
from adapters.http.views import history_view, opportunity_view, quote_view
from commands import opportunities as opp_cmd
from commands import quotes as quote_cmd
from commands.authorization import ensure_visible
from domain.errors import NotFound
from domain.opportunity import Opportunity
from domain.personal_data import shows_personal_data
from domain.pipeline import Pipeline
from domain.quote import Quote

router = APIRouter()
Headers = Depends(command_headers)


# --- opportunities ------------------------------------------------------------------


@router.post("/opportunities", status_code=201, tags=["opportunities"])
def create_opportunity(
    request: Request, body: bodies.OpportunityBody, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command())


@router.get(
    "/opportunities/{opportunity_id}",
    tags=["opportunities"],
    dependencies=[reads("an opportunity")],
)
def get_opportunity(request: Request, opportunity_id: UUID) -> ReadAnswer:
    opp = load(request, Opportunity, opportunity_id)
    view = opportunity_view(opp, load(request, Pipeline, opp.pipeline_id))
    services: Services = request.app.state.services
    return {**view, "custom": custom_shown(services, "opportunity", opp.custom)}


@router.patch("/opportunities/{opportunity_id}", tags=["opportunities"])
def edit_opportunity(
    request: Request,
    opportunity_id: UUID,
    body: bodies.OpportunityPatch,
    h: CommandHeaders = Headers,
) -> JSONResponse:
    return run(request, h, body.to_command(opportunity_id), target=opportunity_id)


@router.delete("/opportunities/{opportunity_id}", tags=["opportunities"])
def delete_opportunity(
    request: Request, opportunity_id: UUID, h: CommandHeaders = Headers
) -> JSONResponse:
    command = opp_cmd.DeleteOpportunity(opportunity_id=opportunity_id)
    return run(request, h, command, target=opportunity_id)


@router.post("/opportunities/{opportunity_id}/stage", tags=["opportunities"])
def move_to_stage(
    request: Request, opportunity_id: UUID, body: bodies.StageMoveBody, h: CommandHeaders = Headers
) -> JSONResponse:
    command = opp_cmd.MoveOpportunityToStage(
        opportunity_id=opportunity_id, stage=body.stage, effective_at=body.effective_at
    )
    return run(request, h, command, target=opportunity_id)


@router.post("/opportunities/{opportunity_id}/partner", tags=["opportunities"])
def assign_partner(
    request: Request, opportunity_id: UUID, body: bodies.PartnerBody, h: CommandHeaders = Headers
) -> JSONResponse:
    command = opp_cmd.AssignPartner(opportunity_id=opportunity_id, partner_id=body.partner_id)
    return run(request, h, command, target=opportunity_id)


@router.post("/opportunities/{opportunity_id}/roles", status_code=201, tags=["opportunities"])
def add_business_role(
    request: Request, opportunity_id: UUID, body: bodies.RoleBody, h: CommandHeaders = Headers
) -> JSONResponse:
    command = opp_cmd.AddBusinessRole(
        opportunity_id=opportunity_id,
        role_id=uuid4(),
        role=body.role,
        contact_id=body.contact_id,
        contact=body.contact,
    )
    return run(request, h, command, target=opportunity_id)


@router.delete("/opportunities/{opportunity_id}/roles/{role_id}", tags=["opportunities"])
def remove_business_role(
    request: Request, opportunity_id: UUID, role_id: UUID, h: CommandHeaders = Headers
) -> JSONResponse:
    command = opp_cmd.RemoveBusinessRole(opportunity_id=opportunity_id, role_id=role_id)
    return run(request, h, command, target=opportunity_id)


@router.post("/opportunities/{opportunity_id}/activities", status_code=201, tags=["opportunities"])
def log_sales_activity(
    request: Request, opportunity_id: UUID, body: bodies.ActivityBody, h: CommandHeaders = Headers
) -> JSONResponse:
    command = opp_cmd.LogSalesActivity(
        opportunity_id=opportunity_id,
        activity_id=uuid4(),
        kind=body.kind,
        subject=body.subject,
        occurred_at=body.occurred_at,
        notes=body.notes,
    )
    return run(request, h, command, target=opportunity_id)


@router.patch("/opportunities/{opportunity_id}/activities/{activity_id}", tags=["opportunities"])
def edit_sales_activity(
    request: Request,
    opportunity_id: UUID,
    activity_id: UUID,
    body: bodies.ActivityPatch,
    h: CommandHeaders = Headers,
) -> JSONResponse:
    command = opp_cmd.EditSalesActivity(
        opportunity_id=opportunity_id,
        activity_id=activity_id,
        kind=body.kind,
        subject=body.subject,
        occurred_at=body.occurred_at,
        notes=body.notes,
    )
    return run(request, h, command, target=opportunity_id)


@router.delete("/opportunities/{opportunity_id}/activities/{activity_id}", tags=["opportunities"])
def delete_sales_activity(
    request: Request, opportunity_id: UUID, activity_id: UUID, h: CommandHeaders = Headers
) -> JSONResponse:
    command = opp_cmd.DeleteSalesActivity(opportunity_id=opportunity_id, activity_id=activity_id)
    return run(request, h, command, target=opportunity_id)


@router.post("/opportunities/{opportunity_id}/quotes", status_code=201, tags=["quotes"])
def create_quote(
    request: Request, opportunity_id: UUID, body: bodies.QuoteBody, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command(opportunity_id), target=opportunity_id)


@router.post("/opportunities/{opportunity_id}/sell", tags=["opportunities"])
def sell(
    request: Request,
    opportunity_id: UUID,
    body: bodies.SellBody | None = None,
    h: CommandHeaders = Headers,
) -> JSONResponse:
    command = opp_cmd.SellOpportunity(
        opportunity_id=opportunity_id, effective_at=body.effective_at if body else None
    )
    return run(request, h, command, target=opportunity_id)


@router.post("/opportunities/{opportunity_id}/unlock", tags=["opportunities"])
def unlock(request: Request, opportunity_id: UUID, h: CommandHeaders = Headers) -> JSONResponse:
    command = opp_cmd.UnlockOpportunity(opportunity_id=opportunity_id)
    return run(request, h, command, target=opportunity_id)


@router.post("/opportunities/{opportunity_id}/lose", tags=["opportunities"])
def lose(
    request: Request, opportunity_id: UUID, body: bodies.ReasonBody, h: CommandHeaders = Headers
) -> JSONResponse:
    command = opp_cmd.LoseOpportunity(
        opportunity_id=opportunity_id, reason=body.reason, effective_at=body.effective_at
    )
    return run(request, h, command, target=opportunity_id)


@router.post("/opportunities/{opportunity_id}/unqualified", tags=["opportunities"])
def mark_unqualified(
    request: Request, opportunity_id: UUID, body: bodies.ReasonBody, h: CommandHeaders = Headers
) -> JSONResponse:
    command = opp_cmd.MarkOpportunityUnqualified(
        opportunity_id=opportunity_id, reason=body.reason, effective_at=body.effective_at
    )
    return run(request, h, command, target=opportunity_id)


@router.post("/opportunities/{opportunity_id}/reopen", tags=["opportunities"])
def reopen(request: Request, opportunity_id: UUID, h: CommandHeaders = Headers) -> JSONResponse:
    command = opp_cmd.ReopenOpportunity(opportunity_id=opportunity_id)
    return run(request, h, command, target=opportunity_id)


@router.post("/opportunities/{opportunity_id}/copy", status_code=201, tags=["opportunities"])
def copy(
    request: Request,
    opportunity_id: UUID,
    body: bodies.CopyBody | None = None,
    h: CommandHeaders = Headers,
) -> JSONResponse:
    command = opp_cmd.CopyOpportunity(
        opportunity_id=opportunity_id,
        new_opportunity_id=uuid4(),
        title=body.title if body else None,
        owner=body.owner if body else None,
    )
    return run(request, h, command)


# --- quotes ---------------------------------------------------------------------


@router.get("/quotes/{quote_id}", tags=["quotes"], dependencies=[reads("a quote")])
def get_quote(request: Request, quote_id: UUID) -> ReadAnswer:
    return quote_view(load(request, Quote, quote_id))


@router.patch("/quotes/{quote_id}", tags=["quotes"])
def edit_quote(
    request: Request, quote_id: UUID, body: bodies.QuotePatch, h: CommandHeaders = Headers
) -> JSONResponse:
    command = quote_cmd.EditQuote(
        quote_id=quote_id, name=body.name, valid_from=body.valid_from, valid_until=body.valid_until
    )
    return run(request, h, command, target=quote_id)


@router.delete("/quotes/{quote_id}", tags=["quotes"])
def delete_quote(request: Request, quote_id: UUID, h: CommandHeaders = Headers) -> JSONResponse:
    return run(request, h, quote_cmd.DeleteQuote(quote_id=quote_id), target=quote_id)


@router.post("/quotes/{quote_id}/items", status_code=201, tags=["quotes"])
def add_item(
    request: Request, quote_id: UUID, body: bodies.ItemBody, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command(quote_id), target=quote_id)


@router.patch("/quotes/{quote_id}/items/{item_id}", tags=["quotes"])
def change_item(
    request: Request,
    quote_id: UUID,
    item_id: UUID,
    body: bodies.ItemPatch,
    h: CommandHeaders = Headers,
) -> JSONResponse:
    command = quote_cmd.ChangeQuoteItem(
        quote_id=quote_id,
        item_id=item_id,
        quantity=body.quantity,
        discount_pct=body.discount_pct,
        unit_price=body.unit_price,
        name=body.name,
        start=body.start,
    )
    return run(request, h, command, target=quote_id)


@router.delete("/quotes/{quote_id}/items/{item_id}", tags=["quotes"])
def remove_item(
    request: Request, quote_id: UUID, item_id: UUID, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(
        request, h, quote_cmd.RemoveQuoteItem(quote_id=quote_id, item_id=item_id), target=quote_id
    )


@router.put("/quotes/{quote_id}/rounding", tags=["quotes"])
def set_rounding(
    request: Request, quote_id: UUID, body: bodies.RoundingBody, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(
        request,
        h,
        quote_cmd.SetQuoteRounding(quote_id=quote_id, amount=body.amount),
        target=quote_id,
    )


@router.post("/quotes/{quote_id}/activate", tags=["quotes"])
def activate(request: Request, quote_id: UUID, h: CommandHeaders = Headers) -> JSONResponse:
    return run(request, h, quote_cmd.ActivateQuote(quote_id=quote_id), target=quote_id)


@router.post("/quotes/{quote_id}/deactivate", tags=["quotes"])
def deactivate(request: Request, quote_id: UUID, h: CommandHeaders = Headers) -> JSONResponse:
    return run(request, h, quote_cmd.DeactivateQuote(quote_id=quote_id), target=quote_id)


@router.post("/quotes/{quote_id}/duplicate", status_code=201, tags=["quotes"])
def duplicate(
    request: Request,
    quote_id: UUID,
    body: bodies.DuplicateBody | None = None,
    h: CommandHeaders = Headers,
) -> JSONResponse:
    command = quote_cmd.DuplicateQuote(
        quote_id=quote_id, new_quote_id=uuid4(), name=body.name if body else None
    )
    return run(request, h, command)


@router.post("/quotes/{quote_id}/currency", tags=["quotes"])
def change_currency(
    request: Request, quote_id: UUID, body: bodies.CurrencyBody, h: CommandHeaders = Headers
) -> JSONResponse:
    command = quote_cmd.ChangeQuoteCurrency(quote_id=quote_id, currency=body.currency)
    return run(request, h, command, target=quote_id)


@router.post("/quotes/{quote_id}/offer", status_code=201, tags=["quotes"])
def generate_offer(
    request: Request,
    quote_id: UUID,
    body: bodies.OfferBody | None = None,
    h: CommandHeaders = Headers,
) -> JSONResponse:
    command = quote_cmd.GenerateOffer(
        quote_id=quote_id, document_id=uuid4(), template=body.template if body else None
    )
    return run(request, h, command, target=quote_id)


@router.get(
    "/documents/{document_id}",
    tags=["quotes"],
    dependencies=[reads("a document")],
    response_class=Response,  # not JSON: its 200 is declared with its media type
)
def get_document(request: Request, document_id: UUID) -> Response:
    services: Services = request.app.state.services
    document = services.store.document(document_id)
    missing = NotFound(f"there is no document with id {document_id}.")
    if document is None:
        raise missing
    # An offer is its quote's, and so its deal's: hidden with them, as an unknown id.
    quote = services.store.load(document.quote_id)
    try:
        if quote is not None:
            ensure_visible(request.state.principal, quote, services.store.load)
    except NotFound:
        raise missing from None
    return Response(
        content=document.content,
        media_type=document.media_type,
        headers={"X-SHA256": document.sha256, "X-Quote-Id": str(document.quote_id)},
    )


# --- history -------------------------------------------------------------------


@router.get(
    "/history/{aggregate_id}", tags=["history"], dependencies=[reads("the history of a record")]
)
def history(request: Request, aggregate_id: UUID) -> ReadAnswer:
    services: Services = request.app.state.services
    events = services.store.history(aggregate_id)
    state = services.store.load(aggregate_id) if events else None
    try:
        if state is not None:
            ensure_visible(request.state.principal, state, services.store.load)
    except NotFound:
        events = []  # a record the caller may not see has no history for them
    if not events:
        raise NotFound(f"there is no aggregate with id {aggregate_id}.")
    masking = masked(request)
    if not masking and any(shows_personal_data(event) for event in events):
        log_personal_reads(request, [aggregate_id])
    return history_view(events, masking=masking)
