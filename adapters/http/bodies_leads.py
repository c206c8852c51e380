"""Request bodies of the lead, lead-intake, lead-rule and campaign routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

import msgspec
from pydantic import ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from adapters.http.bodies import (
    PRIVATE,
    PRIVATE_PATCH,
    SHARED_WITH,
    SHARED_WITH_PATCH,
    Body,
    MoneyBody,
    SharedWith,
    example,
    given,
)
from adapters.http.fields import (
    Address,
    Code,
    CustomValues,
    Day,
    Email,
    ExtraValue,
    FieldName,
    Instant,
    Label,
    Login,
    LongText,
    Name,
    Omittable,
    Phone,
    Probability,
    Reason,
    RulePriority,
    SharePercent,
    ShortText,
    Subject,
    Uuid,
)
from adapters.http.patterns import NO_NUL
from adapters.http.shapes import NamedKeys
from commands import leads as lead_cmd
from commands.lead_intake import AddLeadRule, IntakeLead
from domain import limits
from domain.lead import Priority
from domain.lead.state import DisqualifiedAs
from domain.lead_routing import Condition
from domain.opportunity import ActivityKind
from domain.pipeline import ForecastCategory

Shares = Annotated[
    dict[Login, SharePercent], Field(min_length=1, max_length=limits.SHARES), NamedKeys()
]


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
    first_name: ShortText = Field(description="May be blank")
    last_name: Name
    email: Email | None = None
    phone: Phone | None = None
    address: Address | None = None
    notes: LongText | None = None
    company: ShortText | None = None
    source: Label | None = None
    campaign_id: Uuid | None = None
    owner: Login | None = None
    priority: Priority = "normal"
    private: bool = PRIVATE
    shared_with: SharedWith = SHARED_WITH
    custom: CustomValues = {}

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
            "custom": self.custom,
        }

    def to_command(self) -> lead_cmd.CreateLead:
        return lead_cmd.CreateLead(lead_id=uuid4(), **self._fields())


# The lead's own fields and at most limits.EXTRA_FIELDS more, counted as JSON Schema counts
# them (maxProperties): every field sent.
MAX_INTAKE_FIELDS = len(LeadBody.model_fields) + limits.EXTRA_FIELDS


class IntakeBody(LeadBody):
    """The lead processor takes further fields a marketing tool sends (text, numbers or
    booleans; null ones are left out): stored with the person's data, and usable in rule
    conditions."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "maxProperties": MAX_INTAKE_FIELDS,
            "propertyNames": {"maxLength": limits.LABEL, "pattern": NO_NUL},
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
            ],
        },
    )
    __pydantic_extra__: dict[str, ExtraValue] = Field(init=False)

    @model_validator(mode="before")
    @classmethod
    def _few_short_names(cls, data: Any) -> Any:
        # What the schema's maxProperties and propertyNames say, on the fields as sent.
        if isinstance(data, dict):
            if len(data) > MAX_INTAKE_FIELDS:
                raise PydanticCustomError(
                    "too_many_fields",
                    f"has at most {MAX_INTAKE_FIELDS} fields in all (it has {len(data)})",
                )
            for name in data:
                if len(name) > limits.LABEL or "\x00" in name:
                    raise PydanticCustomError(
                        "field_name",
                        f"names a field {name[:20]!r}…: a field's name has at most"
                        f" {limits.LABEL} characters and no NUL",
                    )
        return data

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

    first_name: Omittable[ShortText] = None
    last_name: Omittable[Name] = None
    email: Email | None = None
    phone: Phone | None = None
    address: Address | None = None
    notes: LongText | None = None
    company: ShortText | None = None
    source: Label | None = None
    campaign_id: Uuid | None = None
    priority: Omittable[Priority] = None
    private: Omittable[bool] = PRIVATE_PATCH
    shared_with: Omittable[SharedWith] = SHARED_WITH_PATCH
    custom: Omittable[CustomValues] = None

    def to_command(self, lead_id: UUID) -> lead_cmd.EditLead:
        given = self.model_dump(exclude_unset=True)
        if "shared_with" in given:
            given["shared_with"] = tuple(given["shared_with"])
        return lead_cmd.EditLead(lead_id=lead_id, **given)


class AssignBody(Body):
    model_config = example({"owner": "bob"})
    owner: Login | None = Field(description="A user, or null for the free pool")


class SplitBody(Body):
    model_config = example({"shares": {"alice": 60, "bob": 40}})
    shares: Shares = Field(description='Percent per user, summing to 100: {"ann": 60}')


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
    subject: Subject
    occurred_at: Instant | None = None
    notes: LongText | None = None


class LeadActivityPatch(Body):
    model_config = example({"subject": "Kick-off call (moved to Tuesday)"})
    kind: ActivityKind | None = None
    subject: Subject | None = None
    occurred_at: Instant | None = None
    notes: LongText | None = None


class LeadAccountBody(Body):
    model_config = example(
        {"account_name": "ACME GmbH"},
        oneOf=[given("account_id", "string"), given("account_name", "string")],
    )
    account_id: Uuid | None = None
    account_name: Name | None = None


class LeadPartnerBody(Body):
    model_config = example({"partner_id": "9c8b7a6f-5e4d-4c3b-a2f1-0e9d8c7b6a5f"})
    partner_id: Uuid


_GIVEN_ID = {"account_id": {"type": "string"}}
_GIVEN_NAME = {"account_name": {"type": "string"}}
_NO_ID = {"account_id": {"type": "null"}}
_NO_NAME = {"account_name": {"type": "null"}}


class QualifiedOpportunityBody(Body):
    # An existing account, one by its name, or (neither) the lead's own: never both.
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["account_id"],
                    "properties": {
                        "account_id": {"type": "string"},
                        "account_name": {"type": "null"},
                    },
                },
                {
                    "required": ["account_name"],
                    "properties": {
                        "account_name": {"type": "string"},
                        "account_id": {"type": "null"},
                    },
                },
                {"properties": {"account_id": {"type": "null"}, "account_name": {"type": "null"}}},
            ]
        }
    )
    title: Name
    expected_close: Day
    amount: MoneyBody | None = None
    account_id: Uuid | None = None
    account_name: Name | None = None
    owner: Login | None = None
    stage: Code | None = None
    pipeline: Name | None = None
    probability: Probability | None = None
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
    effective_at: Instant | None = None

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
    status: DisqualifiedAs
    reason: Reason
    effective_at: Instant | None = None


class TextConditionBody(Body):
    """For `eq` and `contains`: one text."""

    field: FieldName
    op: Literal["eq", "contains"]
    value: Name = Field(description="The text the field equals or contains")


class ListConditionBody(Body):
    """For `in`: a list of texts."""

    field: FieldName
    op: Literal["in"]
    value: list[Name] = Field(
        min_length=1,
        max_length=limits.CONDITION_VALUES,
        description="The texts one of which the field equals",
    )


# Which value a condition takes follows from its op: the schema says so (oneOf, by op).
ConditionBody = Annotated[TextConditionBody | ListConditionBody, Field(discriminator="op")]


class RuleActionBody(Body):
    """Exactly one of these."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                given("assign", "string"),
                given("split", "object"),
                given("partner", "string"),
                given("priority", "string"),
            ]
        }
    )

    assign: Login | None = None
    split: Shares | None = None
    partner: Uuid | None = None
    priority: Priority | None = None


class LeadRuleBody(Body):
    model_config = example(
        {
            "priority": 10,
            "conditions": [{"field": "source", "op": "eq", "value": "webinar"}],
            "action": {"assign": "alice"},
        }
    )
    priority: RulePriority = Field(description="Lower numbers are tried first")
    conditions: list[ConditionBody] = Field(default_factory=list, max_length=limits.CONDITIONS)
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
