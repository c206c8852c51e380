"""What each command route answers: the aggregate it made or changed and where in the log
(``CommandAnswer``), and, on the routes that make a part or tell more, those extras by
name (``EXTRAS``). Declared in the OpenAPI document exactly, no field beyond these.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from adapters.http.answers import Id


class CommandAnswer(BaseModel):
    """What a command answers: the aggregate it made or changed, and where in the log."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The aggregate's id")
    version: int = Field(description="The aggregate's version after the command")
    position: int = Field(description="Log position of the last event the command wrote")


def _id(what: str) -> Any:
    return (Id, Field(description=what))


def _maybe_id(what: str) -> Any:
    return (Id | None, Field(description=what))


_DUPLICATE_OF = _maybe_id("An earlier lead with the same e-mail or phone, if any")

# (method, path) -> (the answer's name, its extra fields as pydantic field definitions)
_EXTRAS: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {
    ("POST", "/leads"): ("LeadCreated", {"duplicate_of": _DUPLICATE_OF}),
    ("POST", "/lead-intake"): (
        "LeadTakenIn",
        {
            "owner": (str | None, Field(description="Who it was routed to; null in the pool")),
            "partner_id": _maybe_id("The partner it was routed to"),
            "duplicate_of": _DUPLICATE_OF,
            "pool": (bool, Field(description="Left in the free pool: no owner, no partner")),
            "priority": (str, Field(description="Its priority after routing")),
            "rule_id": _maybe_id("The lead rule that routed it"),
        },
    ),
    ("POST", "/leads/{lead_id}/activities"): (
        "LeadActivityLogged",
        {"activity_id": _id("The activity made")},
    ),
    ("POST", "/leads/{lead_id}/qualify"): (
        "LeadQualified",
        {
            "opportunity_id": _id("The opportunity made"),
            "contact_id": _id("The contact made of the lead's person"),
        },
    ),
    ("POST", "/opportunities/{opportunity_id}/roles"): (
        "RoleAdded",
        {"role_id": _id("The business role made")},
    ),
    ("POST", "/opportunities/{opportunity_id}/activities"): (
        "OpportunityActivityLogged",
        {"activity_id": _id("The activity made")},
    ),
    ("POST", "/opportunities/{opportunity_id}/quotes"): (
        "QuoteCreated",
        {"quote_id": _id("The quote made")},
    ),
    ("POST", "/quotes/{quote_id}/items"): ("ItemAdded", {"item_id": _id("The item made")}),
    ("POST", "/quotes/{quote_id}/duplicate"): (
        "QuoteDuplicated",
        {"quote_id": _id("The new quote")},
    ),
    ("POST", "/quotes/{quote_id}/offer"): (
        "OfferIssued",
        {
            "document_id": _id("The offer document, read at GET /documents/{id}"),
            "sha256": (str, Field(description="The document's SHA-256, hex")),
        },
    ),
    ("POST", "/baselines"): (
        "BaselineTaken",
        {
            "baseline_position": (int, Field(description="The log position it stands at")),
            "sha256": (str, Field(description="The SHA-256 of its charts, hex")),
        },
    ),
    ("POST", "/users"): ("UserAdded", {"login": (str, Field(description="The user's login"))}),
    ("POST", "/webhooks"): (
        "WebhookRegistered",
        {
            "secret": (
                str,
                Field(description="Signs every delivery (HMAC-SHA256); shown only here"),
            )
        },
    ),
    ("POST", "/custom-fields"): (
        "CustomFieldDefined",
        {
            "entity": (str, Field(description="The entity the field is of")),
            "key": (str, Field(description="The field's key")),
        },
    ),
}

EXTRAS: dict[tuple[str, str], type[CommandAnswer]] = {
    route: create_model(f"{name}Answer", __base__=CommandAnswer, **fields)
    for route, (name, fields) in _EXTRAS.items()
}


def command_answer(method: str, path: str) -> type[CommandAnswer]:
    """The answer model of the command route ``method path``."""
    return EXTRAS.get((method, path), CommandAnswer)
