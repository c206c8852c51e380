"""Hooks the schema-driven fuzzer loads (``SCHEMATHESIS_HOOKS=tests.fuzzing_hooks``).

The fuzzer calls every route as one admin. Deactivating that admin, revoking their
tokens or taking their role away are valid requests the fuzzer would make sooner or
later, after which every later request could only be refused (401/403) and test
nothing; so no generated request names the fuzzer's own login. Everything else,
other users included, is fair game.

``created_records_stay_available`` is schemathesis' own ``ensure_resource_availability``
(a record a POST just created must not answer 404 to the requests its links lead to),
told which record a 404 is about. The built-in reads every 404 after a create as the
created record gone; but a follow-up's body names other records too (a campaign, a
product), generated at random, and an unknown id answers 404 wherever it is given
(docs/api.md). Our 404 says the id it did not find: when that is none of the path's ids,
the created record is there and the built-in is not asked.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any
from urllib.parse import urlsplit

import schemathesis
from schemathesis.specs.openapi.checks import ensure_resource_availability

FUZZER_LOGIN = os.environ.get("CRMLEDGER_FUZZER_LOGIN", "fuzzer")


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    path = case.path_parameters or {}
    # A link the stateful phase infers from an answer may carry a null id (a lead not yet
    # qualified has no opportunity_id); it names no record, and the path would read
    # ".../None/...", which the document refuses as no UUID.
    return (
        path.get("login") != FUZZER_LOGIN
        and None not in path.values()
        and not makes_a_field_required(case)
        and not sends_a_webhook_to_an_unknown_address(case)
        and not sets_a_custom_value(case)
    )


# The plain fields an automation sets; any other names a custom field.
PLAIN_FIELDS = {"stage", "title", "probability", "forecast_category", "priority", "source"}
PLAIN_FIELDS.add("company")


def sets_a_custom_value(case: Any) -> bool:
    """An automation setting a custom field to a value: the value must be of the type an
    admin defined for that key (422 otherwise, as in a PATCH), which the document cannot
    state. The fuzzer leaves such actions out (clearing one, null, stays in); the
    automation tests cover custom values."""
    body = case.body if isinstance(getattr(case, "body", None), dict) else {}
    if str(getattr(case, "method", "")).upper() != "POST" or case.path != "/automations":
        return False
    actions = body.get("actions")
    for action in actions if isinstance(actions, list) else ():
        spec = action.get("set_field") if isinstance(action, dict) else None
        field = spec.get("field") if isinstance(spec, dict) else None
        if isinstance(field, str) and field not in PLAIN_FIELDS and spec.get("value") is not None:
            return True
    return False


def sends_a_webhook_to_an_unknown_address(case: Any) -> bool:
    """A webhook's URL is refused (422) when its host is, or resolves to, a private
    address, or resolves to nothing: a rule of where the URL points, which no schema can
    state (and this machine's DNS answers no public name). The fuzzer keeps the webhooks
    whose host is a public address written out; the SSRF tests cover the others."""
    body = case.body if isinstance(getattr(case, "body", None), dict) else {}
    if str(getattr(case, "method", "")).upper() != "POST" or case.path != "/webhooks":
        return False
    if "url" not in body:
        return False
    try:
        host = urlsplit(str(body["url"]).strip()).hostname or ""
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return True


def makes_a_field_required(case: Any) -> bool:
    """A custom field made required: from then on, by design, every create of its entity
    without a value is refused (422 naming the field), a rule the document cannot state
    (the admins define the fields). The fuzzer leaves such definitions out; the HTTP tests
    of custom fields cover them."""
    body = case.body if isinstance(getattr(case, "body", None), dict) else {}
    return case.path.startswith("/custom-fields") and body.get("required") is True


@schemathesis.check
def created_records_stay_available(ctx: Any, response: Any, case: Any) -> bool | None:
    detail = _json(response).get("detail")
    if response.status_code == 404 and isinstance(detail, str):
        path_ids = [str(value) for value in (case.path_parameters or {}).values()]
        if not any(value in detail for value in path_ids):
            return None  # another record the body names; the path's records are there
    result: bool | None = ensure_resource_availability(ctx, response, case)
    return result


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
