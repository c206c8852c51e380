"""The lead processor: intake of leads from marketing-automation tools (deduplicated,
then routed by the rules), and the rules themselves.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from commands.accounts import survivor
from commands.bus import Answer, Handlers
from commands.leads import CreateLead, first_with_same_contact, record_new_lead
from commands.owners import ensure_active, is_active
from commands.unit_of_work import UnitOfWork
from domain import lead_routing as routing_rules
from domain.ids import LEAD_ROUTING_ID
from domain.lead import Lead, Priority
from domain.lead_routing import Condition, LeadRouting, LeadRuleAdded


class IntakeLead(CreateLead, frozen=True, kw_only=True):
    """A lead from a marketing-automation tool: deduplicated, then routed by the rules."""


class AddLeadRule(msgspec.Struct, frozen=True, kw_only=True):
    rule_id: UUID
    priority: int
    conditions: tuple[Condition, ...] = ()
    assign: str | None = None
    partner: UUID | None = None
    split: dict[str, int] | None = None
    set_priority: Priority | None = None


class RemoveLeadRule(msgspec.Struct, frozen=True, kw_only=True):
    rule_id: UUID


def _routing(uow: UnitOfWork) -> LeadRouting | None:
    """The intake rules; None until the first rule is added."""
    routing = uow.find(LEAD_ROUTING_ID)
    assert routing is None or isinstance(routing, LeadRouting)
    return routing


def intake_lead(uow: UnitOfWork, command: IntakeLead) -> Answer:
    """Duplicate → the first lead's owner; an owner given → that owner (an active user, or
    refused); else the rules; no rule routed it → the free pool. A first lead's owner or a
    rule's user no longer active (deactivated since) → the free pool: intake is never
    refused for what an admin decided earlier, and the pool is where someone takes it up."""
    uow.ensure_new(command.lead_id)
    ensure_active(uow, command.owner)
    first = first_with_same_contact(uow, command)
    routing = _routing(uow)
    routed = routing_rules.route(routing, command.lead_id, command.fields())
    owner, partner_id, rule_id = routed.owner, routed.partner_id, routed.rule_id
    if first is not None:
        owner, partner_id, rule_id = first.owner, first.partner_id, None
    elif command.owner is not None and command.owner.strip():
        owner, partner_id, rule_id = command.owner, None, None
    elif routed.events:
        # A split's pick is recorded even when its user has left: the round-robin goes on as
        # the rule says, and the other users' shares stay exact.
        uow.record(LEAD_ROUTING_ID, list(routed.events))
    if owner is not None and not is_active(uow, owner):
        owner = None
    priority = routed.priority if routed.priority is not None else command.priority
    record_new_lead(
        uow,
        command,
        first,
        owner=owner,
        partner_id=partner_id,
        priority=priority,
        routed_by_rule=rule_id,
        channel="intake",
    )
    lead = uow.get(Lead, command.lead_id)
    return Answer(
        id=command.lead_id,
        created=True,
        extra={
            "owner": lead.owner,
            "partner_id": None if lead.partner_id is None else str(lead.partner_id),
            "duplicate_of": None if first is None else str(first.id),
            "pool": lead.in_pool,
            "priority": lead.priority,
            "rule_id": None if rule_id is None else str(rule_id),
        },
    )


def add_lead_rule(uow: UnitOfWork, command: AddLeadRule) -> Answer:
    routing = _routing(uow)
    # An unknown partner: 404; a merged one: the account it went into.
    partner = None if command.partner is None else survivor(uow, command.partner).id
    events = routing_rules.add_rule(
        routing,
        rule_id=command.rule_id,
        priority=command.priority,
        conditions=command.conditions,
        assign=command.assign,
        partner=partner,
        split=command.split,
        set_priority=command.set_priority,
    )
    for event in events:
        if isinstance(event, LeadRuleAdded):
            # Asked once the domain took the rule: of the users it routes leads to.
            action = event.rule.action
            ensure_active(uow, action.assign, named_as="the rule's user")
            for share in action.split or ():
                ensure_active(uow, share.user, named_as="a user of the rule's split")
    uow.record(LEAD_ROUTING_ID, events)
    return Answer(id=command.rule_id, created=True)


def remove_lead_rule(uow: UnitOfWork, command: RemoveLeadRule) -> Answer:
    routing = _routing(uow)
    uow.record(LEAD_ROUTING_ID, routing_rules.remove_rule(routing, command.rule_id))
    return Answer(id=command.rule_id)


HANDLERS: Handlers = {
    IntakeLead: intake_lead,
    AddLeadRule: add_lead_rule,
    RemoveLeadRule: remove_lead_rule,
}
