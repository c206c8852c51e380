"""An opportunity's custom values (``domain.custom_values``): set or cleared like any
change of a deal, so a sold deal's are locked with it."""

from __future__ import annotations

from domain.custom_values import CustomChanges
from domain.opportunity.events import OpportunityCustomFieldsChanged, OpportunityEvent
from domain.opportunity.rules import ensure_changeable
from domain.opportunity.state import Opportunity

__all__ = ["set_custom"]


def set_custom(opportunity: Opportunity, changes: CustomChanges) -> list[OpportunityEvent]:
    """Custom values checked against the definitions, only those that differ (None:
    cleared); none writes nothing."""
    ensure_changeable(opportunity)
    return [OpportunityCustomFieldsChanged(custom=dict(changes))] if changes else []
