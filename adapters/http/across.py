"""Rules across a body's fields, as its schema states them (``oneOf``, ``anyOf``, ``if`` /
``then`` / ``else`` over which fields are given), checked by the body model itself.

A body model declares them with ``example(..., oneOf=[given("a", …), given("b", …)])``;
the same JSON Schema is written into /openapi.json and read here, so the model refuses
exactly the bodies the document refuses for them (422, before anything runs). The
subschemas may use ``required``, and ``properties`` holding ``type`` (not null, or
``"null"``) or ``const``: what these rules need; any other keyword is refused when the model is
defined, so a rule cannot go unchecked.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

RULES = ("oneOf", "anyOf", "allOf", "if", "then", "else")
_SUBSCHEMA = {"required", "properties", "oneOf", "anyOf", "allOf"}
_PROPERTY = {"type", "const"}

Schema = dict[str, Any]


def rules_of(json_schema_extra: Any) -> Schema:
    """The rules across fields among a model's extra JSON Schema keywords."""
    if not isinstance(json_schema_extra, dict):
        return {}
    return {key: value for key, value in json_schema_extra.items() if key in RULES}


def check_supported(rules: Schema) -> None:
    """Raise TypeError for a keyword these checks do not read."""
    for key, value in rules.items():
        if key in ("oneOf", "anyOf", "allOf"):
            for one in value:
                _check_subschema(one)
        else:
            _check_subschema(value)


def _check_subschema(schema: Schema) -> None:
    unknown = set(schema) - _SUBSCHEMA
    for field_schema in schema.get("properties", {}).values():
        unknown |= set(field_schema) - _PROPERTY
    if unknown:
        raise TypeError(f"rules across fields cannot use {sorted(unknown)}")
    check_supported({k: v for k, v in schema.items() if k in ("oneOf", "anyOf", "allOf")})


def _holds(schema: Schema, body: BaseModel) -> bool:
    given = body.model_fields_set
    for key, value in schema.items():
        if key == "required" and not all(name in given for name in value):
            return False
        if key == "properties":
            for name, wanted in value.items():
                # As in JSON Schema, a property constrains a body only where it is given.
                if name in given and not _matches(getattr(body, name), wanted):
                    return False
        if key == "oneOf" and sum(_holds(one, body) for one in value) != 1:
            return False
        if key == "anyOf" and not any(_holds(one, body) for one in value):
            return False
        if key == "allOf" and not all(_holds(one, body) for one in value):
            return False
    return True


def _matches(value: Any, wanted: Schema) -> bool:
    # The field's own type is checked by its field; "type" here says whether it is null.
    if "type" in wanted and (value is None) != (wanted["type"] == "null"):
        return False
    return "const" not in wanted or value == wanted["const"]


def broken(rules: Schema, body: BaseModel) -> bool:
    """Whether ``body`` breaks its rules."""
    if not _holds({k: v for k, v in rules.items() if k in ("oneOf", "anyOf", "allOf")}, body):
        return True
    if "if" in rules:
        branch = rules.get("then" if _holds(rules["if"], body) else "else", {})
        return not _holds(branch, body)
    return False


def _names(schemas: list[Schema]) -> str:
    names = [name for one in schemas for name in one.get("required", [])]
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)


def says(rules: Schema) -> str:
    """The rules in words, as a refusal says them ("must give …")."""
    said = []
    if "oneOf" in rules:
        said.append(f"must give exactly one of {_names(rules['oneOf'])}")
    if "anyOf" in rules:
        said.append(f"must give at least one of {_names(rules['anyOf'])}")
    if "if" in rules:
        (name, wanted), *_ = rules["if"].get("properties", {}).items()
        when = f"when {name} is {wanted.get('const')}"
        said.append(f"must give {_names([rules.get('then', {})])} {when}")
        if "else" in rules:
            (left_out, _), *_ = rules["else"].get("properties", {}).items()
            said.append(f"leave {left_out} out (or null) unless {name} is {wanted.get('const')}")
    return "; ".join(said)
