"""Rules across a body's fields (adapters/http/across.py): stated in the document, refused
by the body model exactly as the document refuses them, in words that say the rule."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from pydantic import ValidationError

from adapters.http.api_docs import openapi_document
from adapters.http.bodies import Body, ProductBody, StageChangeBody, example, given
from adapters.http.bodies_leads import LeadRuleBody
from adapters.http.bodies_sales import OpportunityBody

DOCUMENT = openapi_document()
DEAL = {"title": "ACME rollout", "owner": "alice", "expected_close": "2027-03-31"}
PRODUCT = {"name": "Licence", "code": "LIC", "category": "software"}
ACCOUNT = "0b5c4a8e-2f7d-4c1e-9a3b-6d8e1f2a3b4c"


def admitted(model: type[Body], body: dict[str, Any]) -> bool:
    schema = {
        "$ref": f"#/components/schemas/{model.__name__}",
        "components": DOCUMENT["components"],
    }
    return bool(jsonschema_rs.validator_for(schema, validate_formats=True).is_valid(body))


@pytest.mark.parametrize(
    ("model", "body", "refusal"),
    [
        (OpportunityBody, DEAL, "must give exactly one of account_id or account_name"),
        (
            OpportunityBody,
            {**DEAL, "account_id": ACCOUNT, "account_name": "ACME"},
            "must give exactly one of account_id or account_name",
        ),
        (ProductBody, {**PRODUCT, "kind": "time_based"}, "must give term_months when kind"),
        (ProductBody, {**PRODUCT, "kind": "one_off", "term_months": 12}, "leave term_months out"),
        (StageChangeBody, {"probability": None}, "must give at least one of probability"),
        (
            LeadRuleBody,
            {"priority": 1, "action": {"assign": "alice", "priority": "high"}},
            "must give exactly one of assign, split, partner or priority",
        ),
        (LeadRuleBody, {"priority": 1, "action": {"assign": None}}, "must give exactly one"),
    ],
)
def test_a_body_breaking_a_rule_across_its_fields_is_refused_as_the_document_refuses_it(
    model: type[Body], body: dict[str, Any], refusal: str
) -> None:
    # Given a body the document refuses for a rule across its fields
    assert not admitted(model, body)
    # Then the model refuses it, saying the rule
    with pytest.raises(ValidationError) as refused:
        model.model_validate(body)
    assert refusal in str(refused.value)


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (OpportunityBody, {**DEAL, "account_name": "ACME", "account_id": None}),
        (ProductBody, {**PRODUCT, "kind": "one_off", "term_months": None}),
        (ProductBody, {**PRODUCT, "kind": "time_based", "term_months": 12}),
        (StageChangeBody, {"forecast_category": "commit"}),
        (LeadRuleBody, {"priority": 1, "action": {"partner": ACCOUNT, "assign": None}}),
    ],
)
def test_a_body_keeping_its_rules_is_accepted_as_the_document_admits_it(
    model: type[Body], body: dict[str, Any]
) -> None:
    assert admitted(model, body)
    model.model_validate(body)


def test_a_rule_the_checks_cannot_read_is_refused_when_the_body_is_defined() -> None:
    # A keyword the model would not check would leave the document saying more than it
    with pytest.raises(TypeError, match="minProperties"):

        class Unread(Body):
            model_config = example({}, oneOf=[given("a", "string"), {"minProperties": 1}])
