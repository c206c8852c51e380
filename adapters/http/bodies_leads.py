"""Request bodies of the lead, lead-intake, lead-rule and campaign routes."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

import msgspec
from pydantic import AwareDatetime, ConfigDict, Field, model_validator

from adapters.http.bodies import (
    PRIVATE,
    PRIVATE_PATCH,
    SHARED_WITH,
    SHARED_WITH_PATCH,
    Body,
    MoneyBody,
    example,
)
from commands import leads as lead_cmd
from commands.campaigns import CreateCampaign
from commands.lead_intake import AddLeadRule, IntakeLead
from domain.errors import InvalidInput
from domain.lead import DISQUALIFIED_AS, Priority
from domain.lead_routing import Condition, Operator
from domain.opportunity import ActivityKind
from domain.pipeline import ForecastCategory

MAX_EXTRA_FIELDS = 50
MAX_TEXT = 2000
Text = Field(default=None, max_length=MAX_TEXT)


class LeadBody(Body):
    model_config = example(
        {
            "first_name": "Jane",
            "last_name": "Doe",
            "email": "jane.doe@example.com",
            "phone": "+49 30 1234567",
            "company": "ACME GmbH",
            "source": "webinar",
            "campaign_id": "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
            "priority": "high",
        }
    )
    first_name: str = Field(max_length=200)
    last_name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=50)
    address: str | None = Text
    notes: str | None = Field(default=None, max_length=10_000)
    company: str | None = Field(default=None, max_length=200)
    source: str | None = Field(default=None, max_length=100)
    campaign_id: UUID | None = None
    owner: str | None = Field(default=None, max_length=200)
    priority: Priority = "normal"
    private: bool = PRIVATE
    shared_with: list[str] = SHARED_WITH

    def _fields(self) -> dict[str, Any]:
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "phone": self.phone,
            "address": self.address,
            "notes": self.notes,
            "company": self.company,
            "source": self.source,
            "campaign_id": self.campaign_id,
            "owner": self.owner,
            "priority": self.priority,
            "private": self.private,
            "shared_with": tuple(self.shared_with),
        }

    def to_command(self) -> lead_cmd.CreateLead:
        return lead_cmd.CreateLead(lead_id=uuid4(), **self._fields())


class IntakeBody(LeadBody):
    """The lead processor takes any further fields a marketing tool sends (text, numbers
    or booleans): stored with the person's data, and usable in rule conditions."""

    model_config = ConfigDict(
        extra="allow",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "first_name": "Jane",
                    "last_name": "Doe",
                    "email": "jane.doe@example.com",
                    "company": "ACME GmbH",
                    "source": "webinar",
                    "employees": 250,
                    "newsletter": True,
                }
            ]
        },
    )

    @model_validator(mode="after")
    def _scalar_extras(self) -> IntakeBody:
        extras = self.model_extra or {}
        if len(extras) > MAX_EXTRA_FIELDS:
            raise ValueError(f"at most {MAX_EXTRA_FIELDS} extra fields")
        for name, value in extras.items():
            if len(name) > 100 or "\x00" in name:
                raise ValueError("an extra field's name has at most 100 characters and no NUL")
            if value is not None and not isinstance(value, str | int | float | bool):
                raise ValueError(f"extra field {name!r} must be text, a number or a boolean")
            if isinstance(value, str) and (len(value) > MAX_TEXT or "\x00" in value):
                raise ValueError(f"extra field {name!r} is too long or holds a NUL character")
        return self

    def to_command(self) -> IntakeLead:
        extra = {
            name: (str(value).lower() if isinstance(value, bool) else str(value))
            for name, value in (self.model_extra or {}).items()
            if value is not None
        }
        return IntakeLead(lead_id=uuid4(), extra=extra, **self._fields())


class LeadPatch(Body):
    """Send only what changes; null clears an optional field."""

    model_config = example({"phone": "+49 30 7654321", "notes": None})

    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=50)
    address: str | None = Text
    notes: str | None = Field(default=None, max_length=10_000)
    company: str | None = Field(default=None, max_length=200)
    source: str | None = Field(default=None, max_length=100)
    campaign_id: UUID | None = None
    priority: Priority | None = None
    private: bool | None = PRIVATE_PATCH
    shared_with: list[str] | None = SHARED_WITH_PATCH

    def to_command(self, lead_id: UUID) -> lead_cmd.EditLead:
        given = self.model_dump(exclude_unset=True)
        for required in ("first_name", "last_name", "priority", "private", "shared_with"):
            if given.get(required, "") is None:
                raise InvalidInput(f"{required} cannot be null.")
        if "shared_with" in given:
            given["shared_with"] = tuple(given["shared_with"])
        return lead_cmd.EditLead(lead_id=lead_id, **given)


class AssignBody(Body):
    model_config = example({"owner": "bob"})
    owner: str | None = Field(description="A user, or null for the free pool", max_length=200)


class SplitBody(Body):
    model_config = example({"shares": {"alice": 60, "bob": 40}})
    shares: dict[str, int] = Field(description='Percent per user, summing to 100: {"ann": 60}')


class LeadActivityBody(Body):
    model_config = example(
        {
            "kind": "call",
            "subject": "Kick-off call",
            "occurred_at": "2027-02-01T10:00:00Z",
            "notes": "Agreed on a pilot with 25 seats.",
        }
    )
    kind: ActivityKind
    subject: str = Field(max_length=500)
    occurred_at: AwareDatetime | None = None
    notes: str | None = Field(default=None, max_length=10_000)


class LeadActivityPatch(Body):
    model_config = example({"subject": "Kick-off call (moved to Tuesday)"})
    kind: ActivityKind | None = None
    subject: str | None = Field(default=None, max_length=500)
    occurred_at: AwareDatetime | None = None
    notes: str | None = Field(default=None, max_length=10_000)


class LeadAccountBody(Body):
    model_config = example({"account_name": "ACME GmbH"})
    account_id: UUID | None = None
    account_name: str | None = None


class LeadPartnerBody(Body):
    model_config = example({"partner_id": "9c8b7a6f-5e4d-4c3b-a2f1-0e9d8c7b6a5f"})
    partner_id: UUID


class QualifiedOpportunityBody(Body):
    title: str
    expected_close: date
    amount: MoneyBody | None = None
    account_id: UUID | None = None
    account_name: str | None = None
    owner: str | None = None
    stage: str | None = None
    pipeline: str | None = None
    probability: int | None = None
    forecast_category: ForecastCategory | None = None


class QualifyBody(Body):
    model_config = example(
        {
            "opportunity": {
                "title": "ACME rollout",
                "expected_close": "2027-06-30",
                "amount": {"amount": "12000.00", "currency": "EUR"},
                "account_name": "ACME GmbH",
            }
        }
    )
    opportunity: QualifiedOpportunityBody
    effective_at: AwareDatetime | None = None

    def to_command(self, lead_id: UUID) -> lead_cmd.QualifyLead:
        opp = self.opportunity
        return lead_cmd.QualifyLead(
            lead_id=lead_id,
            opportunity_id=uuid4(),
            title=opp.title,
            expected_close=opp.expected_close,
            amount=opp.amount.to_money() if opp.amount else None,
            account_id=opp.account_id,
            account_name=opp.account_name,
            owner=opp.owner,
            stage=opp.stage,
            pipeline=opp.pipeline,
            probability=opp.probability,
            forecast_category=opp.forecast_category,
            effective_at=self.effective_at,
        )


class DisqualifyBody(Body):
    model_config = example({"status": "not_interested", "reason": "Chose another vendor"})
    # Checked by the domain (its refusal names the statuses), so the schema keeps a string.
    status: str = Field(description=" | ".join(DISQUALIFIED_AS), max_length=50)
    reason: str = Field(max_length=MAX_TEXT)
    effective_at: AwareDatetime | None = None


class ConditionBody(Body):
    field: str = Field(max_length=100)
    op: Operator
    value: str | list[str]


class RuleActionBody(Body):
    """Exactly one of these."""

    assign: str | None = None
    split: dict[str, int] | None = None
    partner: UUID | None = None
    priority: Priority | None = None


class LeadRuleBody(Body):
    model_config = example(
        {
            "priority": 10,
            "conditions": [{"field": "source", "op": "eq", "value": "webinar"}],
            "action": {"assign": "alice"},
        }
    )
    priority: int = Field(ge=0, description="Lower numbers are tried first")
    conditions: list[ConditionBody] = []
    action: RuleActionBody

    def to_command(self) -> AddLeadRule:
        return AddLeadRule(
            rule_id=uuid4(),
            priority=self.priority,
            conditions=tuple(msgspec.convert(c.model_dump(), Condition) for c in self.conditions),
            assign=self.action.assign,
            split=self.action.split,
            partner=self.action.partner,
            set_priority=self.action.priority,
        )


class CampaignBody(Body):
    model_config = example(
        {
            "name": "Spring webinar",
            "channel": "webinar",
            "starts_on": "2027-03-01",
            "ends_on": "2027-03-31",
        }
    )
    name: str = Field(max_length=200)
    channel: str | None = Field(default=None, max_length=100)
    starts_on: date | None = None
    ends_on: date | None = None

    def to_command(self) -> CreateCampaign:
        return CreateCampaign(
            campaign_id=uuid4(),
            name=self.name,
            channel=self.channel,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
        )
