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
from adapters.http.app import create_app
from adapters.http.bodies import Body

BEGIN = "<!-- request bodies: begin (written by `python -m adapters.http.api_docs`) -->"
END = "<!-- request bodies: end -->"
COMMAND_METHODS = ("post", "put", "patch", "delete")
FORMATS = {
    "uuid": "UUID",
    "date": "date (`2027-03-31`)",
    "date-time": "instant with offset (`2027-03-31T17:00:00Z`)",
}

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
    alternatives = schema.get("anyOf", [schema])
    return [a for a in alternatives if a.get("type") != "null"], any(
        a.get("type") == "null" for a in alternatives
    )


def _is_decimal(alternatives: list[Schema]) -> bool:
    return sorted(a.get("type", "") for a in alternatives) == ["number", "string"]


def type_name(doc: Schema, schema: Schema) -> str:
    """A field's type in words."""
    alternatives, _ = _options(schema)
    if _is_decimal(alternatives):
        return 'decimal (`"1200.50"` or a number)'
    decimal_pair = [a for a in alternatives if a.get("type") in ("number", "string")]
    if len(alternatives) > 1 and _is_decimal(decimal_pair):
        rest = [a for a in alternatives if a not in decimal_pair]
        return " or ".join([*(type_name(doc, a) for a in rest), "decimal"])
    if len(alternatives) > 1:
        return " or ".join(type_name(doc, a) for a in alternatives)
    one = alternatives[0]
    if "$ref" in one:
        return "object (fields below)"
    if "enum" in one:
        return "one of " + ", ".join(f"`{v}`" for v in one["enum"])
    kind = one.get("type")
    if kind == "string":
        return FORMATS.get(one.get("format", ""), "string")
    if kind == "array":
        item = one.get("items", {})
        return "list of " + ("objects (fields below)" if "$ref" in item else type_name(doc, item))
    if kind == "object":
        values = one.get("additionalProperties")
        if isinstance(values, dict):
            return f"object of string to {type_name(doc, values)}"
        return "object"
    return {"integer": "integer", "boolean": "boolean", "number": "number"}.get(kind or "", "any")


def constraints(schema: Schema) -> list[str]:
    """Limits a field's value has, in words."""
    said: list[str] = []
    for one in _options(schema)[0]:
        if "minLength" in one and "maxLength" in one:
            said.append(f"{one['minLength']}–{one['maxLength']} characters")
        elif "maxLength" in one:
            said.append(f"at most {one['maxLength']} characters")
        elif "minLength" in one:
            said.append(f"at least {one['minLength']} character(s)")
        if "pattern" in one:
            said.append(f"matches `{one['pattern']}`")
        if "minimum" in one:
            said.append(f"≥ {one['minimum']:g}")
        if "maximum" in one:
            said.append(f"≤ {one['maximum']:g}")
        if "minItems" in one:
            said.append(f"at least {one['minItems']} item(s)")
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
        if field.get("description"):
            notes.append(field["description"])
        # A nested model's own description ("Exactly one of these.") belongs to its row.
        notes += [
            nested["description"]
            for one in alternatives
            if "$ref" in one and (nested := _resolve(doc, one)).get("description")
        ]
        out.append(
            [
                f"`{path}`",
                type_name(doc, field),
                "yes" if name in required else "no",
                "; ".join(notes),
            ]
        )
        for one in alternatives:
            if "$ref" in one:
                out.extend(rows(doc, _resolve(doc, one), f"{path}."))
            elif one.get("type") == "array" and "$ref" in one.get("items", {}):
                out.extend(rows(doc, _resolve(doc, one["items"]), f"{path}[]."))
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
        if model.get("additionalProperties") is True:
            lead += " Fields beyond these are accepted too."
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
