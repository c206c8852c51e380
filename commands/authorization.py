"""The one place that decides who may run which command (``domain.access`` has the rules).

Every command the bus runs has its right here — a command without one is refused by the
bus, and a test checks that every handler's command is listed. The bus asks
``authorize`` before the handler runs, in the command's unit of work, so a refused
command writes nothing. The processes and the local operator carry no principal: they
may run anything.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from commands import (
    campaigns,
    contracts,
    lead_activities,
    lead_intake,
    leads,
    opportunities,
    quotes,
    read_model_commands,
    reference_data,
    users,
)
from commands.unit_of_work import UnitOfWork
from domain.access import Principal, Right, ensure_may, ensure_partner_works, ensure_sees
from domain.contract import Contract
from domain.lead import Lead
from domain.opportunity import Opportunity
from domain.quote import Quote

_SETTINGS = (
    reference_data.CreateProduct,
    reference_data.DeactivateProduct,
    reference_data.ReactivateProduct,
    reference_data.CreatePriceBook,
    reference_data.SetPrice,
    reference_data.DeactivatePriceBook,
    reference_data.CreateBundle,
    reference_data.SetExchangeRate,
    reference_data.CreatePipeline,
    reference_data.ChangeStage,
    lead_intake.AddLeadRule,
    lead_intake.RemoveLeadRule,
    read_model_commands.SetSalesTarget,
    users.AddUser,
    users.ChangeUser,
    users.DeactivateUser,
)
# What a partner user may do, on the leads and opportunities of their partner.
_PARTNER_WORK = (
    leads.EditLead,
    lead_activities.LogLeadActivity,
    lead_activities.EditLeadActivity,
    lead_activities.DeleteLeadActivity,
    opportunities.EditOpportunity,
    opportunities.MoveOpportunityToStage,
    opportunities.LogSalesActivity,
    opportunities.EditSalesActivity,
    opportunities.DeleteSalesActivity,
)
_WORK = (
    reference_data.CreateAccount,
    opportunities.CreateOpportunity,
    opportunities.AssignPartner,
    opportunities.AddBusinessRole,
    opportunities.RemoveBusinessRole,
    opportunities.SellOpportunity,
    opportunities.UnlockOpportunity,
    opportunities.LoseOpportunity,
    opportunities.MarkOpportunityUnqualified,
    opportunities.ReopenOpportunity,
    opportunities.CopyOpportunity,
    opportunities.DeleteOpportunity,
    quotes.CreateQuote,
    quotes.EditQuote,
    quotes.AddQuoteItem,
    quotes.ChangeQuoteItem,
    quotes.RemoveQuoteItem,
    quotes.SetQuoteRounding,
    quotes.ActivateQuote,
    quotes.DeactivateQuote,
    quotes.DuplicateQuote,
    quotes.ChangeQuoteCurrency,
    quotes.DeleteQuote,
    quotes.GenerateOffer,
    leads.CreateLead,
    leads.AssignLead,
    leads.SplitLead,
    leads.AddLeadToAccount,
    leads.AddLeadToPartner,
    leads.QualifyLead,
    leads.DisqualifyLead,
    leads.ArchiveLead,
    leads.UnarchiveLead,
    leads.AnonymizeLead,
    lead_intake.IntakeLead,
    campaigns.CreateCampaign,
    campaigns.ArchiveCampaign,
    contracts.CancelContract,
    contracts.FulfilContract,
    read_model_commands.TakeBaseline,
    read_model_commands.DeleteBaseline,
)
# Run by the processes (and the operator's tools) only.
_SYSTEM = (
    reference_data.EnsureDefaults,
    contracts.RecordContractsOfSale,
    contracts.CancelContractsOfOpportunity,
    contracts.FireContractTimer,
)
_OWN = (users.IssueApiToken, users.RevokeApiTokens)
# Commands whose ids name the records they make (no owner to ask yet).
_CREATIONS = (opportunities.CreateOpportunity, leads.CreateLead, lead_intake.IntakeLead)

RIGHTS: dict[type[Any], Right] = {
    **dict.fromkeys(_SETTINGS, "settings"),
    **dict.fromkeys(_PARTNER_WORK, "partner"),
    **dict.fromkeys(_WORK, "work"),
    **dict.fromkeys(_SYSTEM, "system"),
    **dict.fromkeys(_OWN, "own"),
}


def _words(command: object) -> str:
    """``SellOpportunity`` → ``sell opportunity``: the command, in a refusal."""
    name = type(command).__name__
    return "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()


def authorize(uow: UnitOfWork, principal: Principal, command: object) -> None:
    """Refuse ``command`` unless ``principal`` may run it (403), or when the record it
    addresses is one they may not see (404, as an unknown id)."""
    right = RIGHTS.get(type(command))
    if right is None:
        raise TypeError(f"{type(command).__name__} has no right in commands.authorization")
    ensure_may(principal, right, _words(command), about=getattr(command, "login", None))
    if right not in ("work", "partner") or isinstance(command, _CREATIONS):
        return
    record = _record_of(uow, command)
    if record is None:
        return
    kind, record_id, state = record
    if principal.role == "partner":
        ensure_partner_works(principal, getattr(state, "partner_id", None), kind, record_id)
    elif isinstance(state, Lead):
        owners = {state.owner or "", *(share.user for share in state.shares)}
        ensure_sees(principal, owners, kind, record_id, pool=state.in_pool)
    else:
        ensure_sees(principal, {state.owner}, kind, record_id)


def _record_of(
    uow: UnitOfWork, command: object
) -> tuple[str, UUID, Lead | Opportunity | Contract] | None:
    """The record whose owner decides: the lead, the contract, or the opportunity (a
    quote's, for a command on a quote) the command addresses; None for the others.
    Unknown ids are refused here as they would be by the handler (404)."""
    if (lead_id := getattr(command, "lead_id", None)) is not None:
        return "lead", lead_id, uow.get(Lead, lead_id)
    if (contract_id := getattr(command, "contract_id", None)) is not None:
        return "contract", contract_id, uow.get(Contract, contract_id)
    quote_id = getattr(command, "quote_id", None)
    if quote_id is not None and not isinstance(command, quotes.CreateQuote):  # its id is new
        # A quote is its opportunity's: hidden with it, and refused as the quote (an
        # unknown quote would be).
        return "quote", quote_id, uow.get(Opportunity, uow.get(Quote, quote_id).opportunity_id)
    opportunity_id = getattr(command, "opportunity_id", None)
    if opportunity_id is None:
        return None
    return "opportunity", opportunity_id, uow.get(Opportunity, opportunity_id)
