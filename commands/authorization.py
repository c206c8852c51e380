"""The one place that decides who may run which command, and make which read
(``domain.access`` has the rules; the reads' table is ``commands.read_rights``, re-exported
here).

Every command the bus runs has its right here — a command without one is refused by the
bus, and a test checks that every handler's command is listed. The bus asks
``authorize`` before the handler runs, in the command's unit of work, so a refused
command writes nothing. The processes and the local operator carry no principal: they
may run anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import msgspec

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
    opportunities,
    pipelines,
    quotes,
    read_model_commands,
    reference_data,
    sharing,
    task_rights,
    users,
)
from commands import webhooks as webhook_commands
from commands.read_rights import READS, authorize_read
from commands.unit_of_work import UnitOfWork
from domain.access import (
    Forbidden,
    Principal,
    RecordAccess,
    Right,
    ensure_may,
    ensure_sees,
    sees,
)
from domain.account import Account
from domain.aggregate import AggregateState
from domain.baseline import Baseline, baseline_access
from domain.contact import Contact
from domain.contract import Contract
from domain.lead import Lead
from domain.opportunity import Opportunity
from domain.quote import Quote
from domain.task import Task, task_access

__all__ = ["READS", "RIGHTS", "authorize", "authorize_read", "ensure_may_run", "ensure_visible"]

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
    pipelines.AddPipelineStage,
    pipelines.ChangePipelineStage,
    pipelines.RemovePipelineStage,
    lead_intake.AddLeadRule,
    lead_intake.RemoveLeadRule,
    read_model_commands.SetSalesTarget,
    users.AddUser,
    users.ChangeUser,
    users.DeactivateUser,
    custom_fields.DefineCustomField,
    custom_fields.ChangeCustomField,
    custom_fields.DeleteCustomField,
    # Webhooks: admins only (a disabled endpoint is also disabled by the sender).
    webhook_commands.RegisterWebhook,
    webhook_commands.DeleteWebhook,
    webhook_commands.DisableWebhook,
    webhook_commands.EnableWebhook,
)
# What a partner user may do, on the leads and opportunities of their partner.
_PARTNER_WORK = (
    leads.EditLead,
    lead_activities.LogLeadActivity,
    lead_activities.EditLeadActivity,
    lead_activities.DeleteLeadActivity,
    opportunities.EditOpportunity,
    opportunities.MoveOpportunityToStage,
    pipelines.MoveOpportunityToPipeline,
    opportunities.LogSalesActivity,
    opportunities.EditSalesActivity,
    opportunities.DeleteSalesActivity,
)
_WORK = (
    reference_data.CreateAccount,
    sharing.ShareAccount,
    accounts.ChangeAccount,
    accounts.MergeAccount,
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
    contacts.CreateContact,
    contacts.ChangeContact,
    contacts.AnonymizeContact,
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
_CREATIONS = (
    opportunities.CreateOpportunity,
    leads.CreateLead,
    lead_intake.IntakeLead,
    contacts.CreateContact,
)

RIGHTS: dict[type[Any], Right] = {
    **dict.fromkeys(_SETTINGS, "settings"),
    **dict.fromkeys(_PARTNER_WORK, "partner"),
    **dict.fromkeys(_WORK, "work"),
    **dict.fromkeys(_SYSTEM, "system"),
    **dict.fromkeys(_OWN, "own"),
    # Automations: an admin's settings; their runs, the automations process's.
    **dict.fromkeys(
        (
            automations.DefineAutomation,
            automations.DisableAutomation,
            automations.EnableAutomation,
            automations.DeleteAutomation,
        ),
        "settings",
    ),
    **dict.fromkeys((automation_runs.RunAutomations, automation_runs.FireIdleTimer), "system"),
    **task_rights.RIGHTS,
}


def _words(command: object) -> str:
    """``SellOpportunity`` → ``sell opportunity``: the command, in a refusal."""
    name = type(command).__name__
    return "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()


def ensure_may_run(principal: Principal, command: object) -> None:
    """Refuse ``command`` (403) unless ``principal``'s role may run it, before a route does
    work for it (the bus asks ``authorize`` again, with the records it addresses)."""
    right = RIGHTS.get(type(command))
    if right is None:
        raise TypeError(f"{type(command).__name__} has no right in commands.authorization")
    ensure_may(principal, right, _words(command), about=getattr(command, "login", None))


def authorize(uow: UnitOfWork, principal: Principal, command: object) -> None:
    """Refuse ``command`` unless ``principal`` may run it (403), or when the record it
    addresses is one they may not see (404, as an unknown id)."""
    ensure_may_run(principal, command)
    right = RIGHTS[type(command)]
    if principal.role == "partner" and _changes_sharing(command):
        raise Forbidden("a partner may not change who sees a record.")
    if right == "recipient":
        task_rights.ensure_recipient(uow, principal, command)
    if right not in ("work", "partner"):
        return
    if isinstance(command, _CREATIONS):
        # A rep makes records for themselves, a manager for their team too (an admin for
        # anyone); a lead may also go to the free pool.
        owner = getattr(command, "owner", None)
        if owner is not None and not sees(principal, RecordAccess(owners=frozenset({owner}))):
            raise Forbidden(f"a {principal.role} may not make a record for {owner!r}.")
        # A new record may not be filed under an account the caller may not see.
        account_id = getattr(command, "account_id", None)
        if account_id is not None and (account := uow.find(account_id)) is not None:
            ensure_visible(principal, account, uow.find)
        return
    record = _record_of(uow, command)
    if record is not None:
        ensure_visible(principal, record, uow.find)
    for named in _named_in_body(uow, command):
        ensure_visible(principal, named, uow.find)
    if isinstance(command, _ACCOUNT_CHANGES):
        for account in _accounts_changed(uow, command):
            _ensure_works_account(principal, account)


def access_of(
    record: AggregateState, find: Callable[[UUID], AggregateState | None]
) -> RecordAccess:
    """What decides who sees ``record`` (``domain.access.sees``). A quote is its
    opportunity's (``find`` loads it); records nobody owns are reference data."""
    if isinstance(record, Quote):
        found = find(record.opportunity_id)
        if found is None:
            return RecordAccess()
        record = found
    if isinstance(record, Lead):
        return RecordAccess(
            owners=frozenset({record.owner or "", *(share.user for share in record.shares)}),
            private=record.private,
            shared_with=frozenset(record.shared_with),
            pool=record.in_pool,
            partner_id=record.partner_id,
        )
    if isinstance(record, Contact):
        return RecordAccess(
            owners=frozenset({record.owner or ""}),
            private=record.private,
            shared_with=frozenset(record.shared_with),
        )
    if isinstance(record, Opportunity):
        return RecordAccess(
            owners=frozenset({record.owner}),
            private=record.private,
            shared_with=frozenset(record.shared_with),
            partner_id=record.partner_id,
        )
    if isinstance(record, Contract):
        return RecordAccess(owners=frozenset({record.owner}))
    if isinstance(record, Task):
        return task_access(record)
    if isinstance(record, Baseline):
        return baseline_access(record.params)
    if isinstance(record, Account) and record.private:
        return RecordAccess(
            owners=frozenset({record.owner} if record.owner else ()),
            private=True,
            shared_with=frozenset(record.shared_with),
        )
    return RecordAccess()


def ensure_visible(
    principal: Principal,
    record: AggregateState,
    find: Callable[[UUID], AggregateState | None],
) -> None:
    """``record`` is one ``principal`` may see (and, if their role lets them, change);
    otherwise it is refused exactly as an unknown id (404). Commands (through
    ``authorize``) and the API's reads of one record both ask here. ``find`` loads the
    opportunity a quote belongs to."""
    ensure_sees(principal, access_of(record, find), record.kind, record.id)


def _changes_sharing(command: object) -> bool:
    return any(
        getattr(command, name, msgspec.UNSET) not in (msgspec.UNSET, False, ())
        for name in ("private", "shared_with")
    )


def _record_of(uow: UnitOfWork, command: object) -> AggregateState | None:
    """The record whose owner decides: the lead, the contract, the quote or the
    opportunity the command addresses; None for the others. Unknown ids are refused here
    as they would be by the handler (404)."""
    if (task := task_rights.task_of(uow, command)) is not None:
        return task
    if (lead_id := getattr(command, "lead_id", None)) is not None:
        return uow.get(Lead, lead_id)
    if isinstance(command, contacts.ChangeContact | contacts.AnonymizeContact):
        return uow.get(Contact, command.contact_id)
    if isinstance(command, _ACCOUNT_CHANGES):
        return uow.get(Account, command.account_id)
    if isinstance(command, read_model_commands.DeleteBaseline):
        return uow.get(Baseline, command.baseline_id)
    if (contract_id := getattr(command, "contract_id", None)) is not None:
        return uow.get(Contract, contract_id)
    quote_id = getattr(command, "quote_id", None)
    if quote_id is not None and not isinstance(command, quotes.CreateQuote):  # its id is new
        return uow.get(Quote, quote_id)
    opportunity_id = getattr(command, "opportunity_id", None)
    if opportunity_id is None:
        return None
    return uow.get(Opportunity, opportunity_id)


def _named_in_body(uow: UnitOfWork, command: object) -> list[AggregateState]:
    """Other records a command on a record names, which the caller must see too (a record
    they may not see answers as unknown): the account a contact moves to, the contact a
    business role is given to. Unknown ids are the handler's to refuse."""
    named: list[UUID] = []
    if isinstance(command, contacts.ChangeContact) and isinstance(command.account_id, UUID):
        named.append(command.account_id)
    if isinstance(command, opportunities.EditOpportunity) and isinstance(command.account_id, UUID):
        named.append(command.account_id)
    if isinstance(command, accounts.MergeAccount):
        named.append(command.into)
    parent_id = getattr(command, "parent_id", None)
    if isinstance(command, reference_data.CreateAccount | accounts.ChangeAccount) and isinstance(
        parent_id, UUID
    ):
        named.append(parent_id)
    if isinstance(command, opportunities.AddBusinessRole) and command.contact_id is not None:
        named.append(command.contact_id)
    found = [record for record in map(uow.find, named) if record is not None]
    return [*found, *task_rights.named_in_task(uow, command)]


# Commands that change an account: its owner's (or an admin's) to run.
_ACCOUNT_CHANGES = (sharing.ShareAccount, accounts.ChangeAccount, accounts.MergeAccount)


def _accounts_changed(
    uow: UnitOfWork, command: sharing.ShareAccount | accounts.ChangeAccount | accounts.MergeAccount
) -> list[Account]:
    """The accounts a command changes: the one it addresses, and for a merge the survivor
    too (its history records the merge). Unknown ids are the handler's to refuse."""
    changed = [uow.get(Account, command.account_id)]
    if isinstance(command, accounts.MergeAccount) and isinstance(
        into := uow.find(command.into), Account
    ):
        changed.append(into)
    return changed


def _ensure_works_account(principal: Principal, account: Account) -> None:
    """An account someone owns is changed by them (those it is shared with and their
    managers work it as theirs) or an admin; any sales user changes one nobody owns
    (made by a process, as when a lead is qualified)."""
    if account.owner is None:
        return
    owners = RecordAccess(
        owners=frozenset({account.owner}), shared_with=frozenset(account.shared_with)
    )
    if not sees(principal, owners):
        raise Forbidden(
            f"only the owner of account {account.id} ({account.owner}) or an admin may change it."
        )
