"""The request-body section of docs/api.md, written from the app's OpenAPI document.

The pydantic body models are the truth; this renders every command route's body (fields,
types, required or not, constraints, the model's example) so the page never drifts from
them. ``python -m adapters.http.api_docs`` rewrites the section between the markers in
docs/api.md; a test fails while the page differs from what this renders.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, cast

from adapters.bootstrap import Services
from adapters.http import across, patterns, shapes
from adapters.http.app import create_app
from adapters.http.bodies import Body
from adapters.http.shapes import DECIMAL
from domain.offer import TOKENS

BEGIN = "<!-- request bodies: begin (written by `python -m adapters.http.api_docs`) -->"
END = "<!-- request bodies: end -->"
COMMAND_METHODS = ("post", "put", "patch", "delete")
FORMATS = {
    "uuid": "UUID",
    "date": "date (`2027-03-31`)",
    "date-time": "instant with offset (`2027-03-31T17:00:00Z`)",
}
# Patterns said in words (their exact text is in the conventions of docs/api.md).
PATTERNS = {
    patterns.NO_NUL: "no NUL",
    patterns.NOT_BLANK: "not blank; no NUL",
    patterns.LOGIN_PATTERN: "a login (`[a-z0-9][a-z0-9._@-]*`)",
    patterns.EMAIL: "an e-mail address: one `@`, no whitespace within, no NUL",
    patterns.PERIOD: "a period: `2027`, `2027-Q1` or `2027-03`",
    patterns.POSITION: "a log position (digits)",
    patterns.TEMPLATE: "a template: `$$` for a dollar sign, `$token` or `${token}` for "
    + ", ".join(f"`{t}`" for t in TOKENS)
    + "; no NUL",
}
# Shared schemas listed once, after the routes, rather than in every row that uses them.
SHARED = ("CurrencyCode",)

Schema = dict[str, Any]


def openapi_document() -> Schema:
    """The app's OpenAPI document. Building it reads only the routes and their models,
    never the services, so none are opened."""
    return create_app(cast(Services, None)).openapi()


def command_routes(doc: Schema) -> list[tuple[str, str, Schema]]:
    """(METHOD, path, operation) of every route that changes something, in document order."""
    return [
        (method.upper(), path, operation)
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
        if method in COMMAND_METHODS
    ]


def _resolve(doc: Schema, schema: Schema) -> Schema:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: Schema = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return resolved


def _options(schema: Schema) -> tuple[list[Schema], bool]:
    """The alternatives a schema allows, without null, and whether null is one."""
    alternatives = schema.get("anyOf") or schema.get("oneOf") or [schema]
    return [a for a in alternatives if a.get("type") != "null"], any(
        a.get("type") == "null" for a in alternatives
    )


def _shapes(schema: Schema) -> list[Schema]:
    """The objects a value may be one of, when it may be one of several (a stage: open,
    won, or lost)."""
    alternatives = schema.get("oneOf") or schema.get("anyOf") or []
    refs = [one for one in alternatives if "$ref" in one]
    return refs if len(refs) > 1 else []


def _is_decimal(schema: Schema) -> bool:
    return schema.get("pattern") in shapes.DECIMAL_PATTERNS


def type_name(doc: Schema, schema: Schema) -> str:
    """A field's type in words."""
    alternatives, _ = _options(schema)
    if len(alternatives) > 1:
        return " or ".join(type_name(doc, a) for a in alternatives)
    if not alternatives:
        return "null"
    one = alternatives[0]
    if "$ref" in one:
        name = one["$ref"].rsplit("/", 1)[-1]
        return f"`{name}` (below)" if name in SHARED else "object (fields below)"
    if "enum" in one:
        return "one of " + ", ".join(f"`{v}`" for v in one["enum"])
    if "const" in one:
        return f"always `{json.dumps(one['const'])}`"
    kind = one.get("type")
    if kind == "string":
        if _is_decimal(one):
            return 'decimal string (`"1200.50"`)'
        return FORMATS.get(one.get("format", ""), "string")
    if kind == "array":
        item = one.get("items", {})
        if _shapes(item):
            return "list of objects, each of one of the shapes below"
        return "list of " + ("objects (fields below)" if "$ref" in item else type_name(doc, item))
    if kind == "object":
        values = one.get("additionalProperties")
        keys = one.get("propertyNames", {})
        key = PATTERNS.get(keys.get("pattern", ""), "string")
        if isinstance(values, dict):
            return f"object of {key} to {type_name(doc, values)}"
        return "object"
    return {"integer": "integer", "boolean": "boolean", "number": "number"}.get(kind or "", "any")


def _text_constraints(one: Schema) -> list[str]:
    """Length and pattern of a string, in words; those of ids, dates, instants and
    decimals are in their type's name and description."""
    if one.get("format") in FORMATS or _is_decimal(one):
        return []
    said: list[str] = []
    if "maxLength" in one:
        said.append(f"at most {_number(one['maxLength'])} characters")
    if "pattern" in one:
        pattern = one["pattern"]
        said.append(PATTERNS.get(pattern, f"matches `{pattern}`"))
    return said


def _number(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else f"{value:g}"


def constraints(schema: Schema) -> list[str]:
    """Limits a field's value has, in words."""
    said: list[str] = []
    for one in _options(schema)[0]:
        if "anyOf" in one or "oneOf" in one:
            said += constraints(one)
        if one.get("type") == "string":
            said += _text_constraints(one)
        if _is_decimal(one):
            said.append(shapes.DECIMAL_PATTERNS[one["pattern"]])
        if "minimum" in one and "maximum" in one:
            said.append(f"{_number(one['minimum'])}–{_number(one['maximum'])}")
        elif "minimum" in one:
            said.append(f"≥ {_number(one['minimum'])}")
        elif "maximum" in one:
            said.append(f"≤ {_number(one['maximum'])}")
        if "minItems" in one:
            said.append(f"at least {one['minItems']} item(s)")
        if "maxItems" in one:
            said.append(f"at most {one['maxItems']} items")
        if one.get("type") == "array" and (each := constraints(one.get("items", {}))):
            said.append("each: " + ", ".join(each))
        if "minProperties" in one:
            said.append(f"at least {one['minProperties']} entry(ies)")
        if "maxProperties" in one:
            said.append(f"at most {one['maxProperties']} entries")
        values = one.get("additionalProperties")
        if isinstance(values, dict) and (each := constraints(values)):
            said.append("each value: " + ", ".join(each))
    return said


def rows(doc: Schema, model: Schema, prefix: str = "") -> list[list[str]]:
    """One row per field, nested objects' fields after their own (``amount.currency``,
    ``components[].weight``)."""
    out: list[list[str]] = []
    required = set(model.get("required", []))
    for name, field in model.get("properties", {}).items():
        path = f"{prefix}{name}"
        alternatives, nullable = _options(field)
        notes = constraints(field)
        if nullable:
            notes.append("null allowed")
        if "default" in field and field["default"] not in (None, [], {}):
            notes.append(f"default `{json.dumps(field['default'])}`")
        if field.get("description") and not field["description"].startswith(DECIMAL):
            notes.append(field["description"])
        # A nested model's own description ("Exactly one of these.") belongs to its row.
        notes += [
            nested["description"]
            for one in alternatives
            if "$ref" in one
            and one["$ref"].rsplit("/", 1)[-1] not in SHARED
            and (nested := _resolve(doc, one)).get("description")
        ]
        out.append(
            [
                f"`{path}`",
                type_name(doc, field),
                "yes" if name in required else "no",
                # A pipe would end the table cell, even within a code span.
                "; ".join(notes).replace("|", "\\|"),
            ]
        )
        for one in alternatives:
            if "$ref" in one:
                out.extend(rows(doc, _resolve(doc, one), f"{path}."))
            elif one.get("type") == "array" and "$ref" in one.get("items", {}):
                out.extend(rows(doc, _resolve(doc, one["items"]), f"{path}[]."))
            elif one.get("type") == "array":
                for shape in _shapes(one.get("items", {})):
                    model = _resolve(doc, shape)
                    said = " ".join(model.get("description", "").split())
                    out.append([f"`{path}[]`", f"shape `{model['title']}`", "", said])
                    out.extend(rows(doc, model, f"{path}[]."))
    return out


def body_models() -> dict[str, type[Body]]:
    """Every request body model, by the name its schema has in the OpenAPI document."""
    found: dict[str, type[Body]] = {}
    todo: list[type[Body]] = [Body]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


def example_of(model: type[Body]) -> Any | None:
    """The model's example as written (the OpenAPI document sorts its keys)."""
    extra = model.model_config.get("json_schema_extra")
    examples = extra.get("examples") if isinstance(extra, dict) else None
    return examples[0] if isinstance(examples, list) and examples else None


def render(doc: Schema) -> str:
    """The section: a subsection per command route with a body, then those without one."""
    parts: list[str] = []
    bodiless: list[str] = []
    for method, path, operation in command_routes(doc):
        body = operation.get("requestBody")
        if body is None:
            bodiless.append(f"`{method} {path}`")
            continue
        schema = body["content"]["application/json"]["schema"]
        alternatives, _ = _options(schema)
        model = _resolve(doc, alternatives[0])
        need = "required" if body.get("required") else "optional (send none, or `{}`)"
        parts.append(f"#### `{method} {path}`\n")
        lead = f"Body `{model['title']}`, {need}."
        if model.get("description"):
            lead += " " + " ".join(model["description"].split())
        if rules := across.rules_of(model):
            lead += f" Across its fields: it {across.says(rules)}."
        further = model.get("additionalProperties")
        if isinstance(further, dict):
            names = model.get("propertyNames", {})
            lead += (
                f" Further fields are accepted too: each {type_name(doc, further)}"
                f" ({'; '.join(constraints(further))}), named in at most"
                f" {names.get('maxLength')} characters ({PATTERNS[names['pattern']]});"
                f" at most {model.get('maxProperties')} fields in all."
            )
        parts.append(lead + "\n")
        table = [["field", "type", "required", "constraints and notes"], ["---"] * 4]
        table += rows(doc, model)
        parts.extend("| " + " | ".join(cells) + " |" for cells in table)
        example = example_of(body_models()[model["title"]])
        if example is not None:
            parts.append("\nExample:\n")
            parts.append("```json\n" + json.dumps(example, indent=2, ensure_ascii=False) + "\n```")
        parts.append("")
    parts.append("#### Commands without a body\n")
    parts.extend(f"- {route}" for route in bodiless)
    parts.append("\n#### Shared values\n")
    for name in SHARED:
        shared = doc["components"]["schemas"][name]
        values = ", ".join(f"`{v}`" for v in shared["enum"])
        parts.append(f"`{name}`: {shared['description']} One of {values}.\n")
    return "\n".join(parts).rstrip() + "\n"


def section(text: str) -> str:
    """What lies between the markers of a page."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip("\n") + "\n"


def write(page: Path) -> None:
    text = page.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    page.write_text(text[:start] + "\n\n" + render(openapi_document()) + "\n" + text[end:])


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/api.md"))
