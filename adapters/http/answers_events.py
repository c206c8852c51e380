"""The entries of ``GET /history/{id}``: one shape per event type, its ``data`` written
from the event class itself (msgspec's JSON Schema of it), so an event or a field added
to the domain is in the document at once, never copied by hand.

An entry's ``data`` is the event's own fields (``domain.events.payload``): every field of
the class (msgspec writes them all, but those of a struct that omits its defaults), not
the envelope (said beside it: ``version``, ``recorded_at``, ``actor`` …) nor the sealed
copy of the personal fields. Masked or erased personal fields read null, which their
types allow (``domain.personal_data``). The entry's ``type`` says which shape its ``data``
has (a ``discriminator``).
"""

from __future__ import annotations

import typing
from functools import cache
from typing import Annotated, Any

import msgspec
from pydantic import WithJsonSchema

from domain.events import ENVELOPE_FIELDS, DomainEvent, registered_event_types

Schema = dict[str, Any]

HISTORY_ENTRY = "HistoryEntry"
# A struct an event holds (a quote item, money …) is a component of its own, named apart
# from the answers' models of the same name.
NESTED_PREFIX = "Recorded"
_REF = "#/components/schemas/"
# Never in an entry's data: the store's ciphertext of the personal fields.
HIDDEN = ENVELOPE_FIELDS | {"sealed"}

# The history route's answer, for its answer model: entries the document's components
# describe (``event_components``).
HistoryEntries = Annotated[
    list[dict[str, Any]],
    WithJsonSchema({"type": "array", "items": {"$ref": _REF + HISTORY_ENTRY}}),
]


def _structs(roots: list[type[msgspec.Struct]]) -> dict[str, type[msgspec.Struct]]:
    """Every struct class the roots hold, by name (the roots too)."""
    found: dict[str, type[msgspec.Struct]] = {}
    pending = list(roots)
    while pending:
        cls = pending.pop()
        if cls.__name__ in found:
            continue
        found[cls.__name__] = cls
        for field in msgspec.structs.fields(cls):
            pending.extend(_struct_types(field.type))
    return found


def _struct_types(hint: Any) -> list[type[msgspec.Struct]]:
    if isinstance(hint, type) and issubclass(hint, msgspec.Struct):
        return [hint]
    return [found for arg in typing.get_args(hint) for found in _struct_types(arg)]


def _exact(schema: Schema, cls: type[msgspec.Struct], hidden: frozenset[str]) -> Schema:
    """``schema`` of ``cls`` as written out: no ``hidden`` field, no other field than
    its own, and every field required unless the struct omits its defaults."""
    properties = {k: v for k, v in schema["properties"].items() if k not in hidden}
    if cls.__struct_config__.omit_defaults:
        required = [name for name in schema.get("required", []) if name not in hidden]
    else:
        required = list(properties)
        # A default is what an absent field means; these are never absent.
        properties = {
            k: {n: v for n, v in p.items() if n != "default"} for k, p in properties.items()
        }
    exact: Schema = {**schema, "properties": properties, "additionalProperties": False}
    if required:
        exact["required"] = required
    else:
        exact.pop("required", None)
    return exact


def _undefaulted(schema: Schema) -> Schema:
    return {k: v for k, v in schema.items() if k != "default"}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _entry(name: str, data: Schema) -> Schema:
    text = {"type": "string"}
    instant = {"type": "string", "format": "date-time"}
    return {
        "title": f"{name}Entry",
        "type": "object",
        "description": f"A `{name}` event.",
        "properties": {
            "version": {"type": "integer", "description": "The record's version it made"},
            "type": {"type": "string", "const": name},
            "recorded_at": instant,
            "effective_at": {
                **_nullable(instant),
                "description": "When it took effect, when the command said so",
            },
            "actor": {**_nullable(text), "description": "Who did it"},
            "correlation_id": {**_nullable(text), "description": "The request it came with"},
            "causation_id": {**_nullable(text), "description": "What caused it"},
            "data": data,
            "masked": {
                "type": "boolean",
                "description": "Its personal fields read null: the caller may not see them",
            },
        },
        "required": [
            "version",
            "type",
            "recorded_at",
            "effective_at",
            "actor",
            "correlation_id",
            "causation_id",
            "data",
            "masked",
        ],
        "additionalProperties": False,
    }


@cache
def event_components() -> dict[str, Schema]:
    """The components ``HistoryEntry`` needs: itself (one of the entries, by ``type``),
    an entry per event type and the structs events hold."""
    events: dict[str, type[DomainEvent]] = registered_event_types()
    structs = _structs(list(events.values()))
    _, written = msgspec.json.schema_components(
        list(events.values()), ref_template=_REF + NESTED_PREFIX + "{name}"
    )
    components: dict[str, Schema] = {}
    for name, schema in written.items():
        cls = structs[name]
        if name in events:
            data = _exact(schema, cls, HIDDEN)
            data.pop("title", None)
            components[f"{name}Entry"] = _entry(name, data)
        else:
            components[NESTED_PREFIX + name] = _exact(schema, cls, frozenset())
    entries = {name: f"{_REF}{name}Entry" for name in sorted(events)}
    components[HISTORY_ENTRY] = {
        "description": "An event of the record: its data's shape follows its `type`.",
        "oneOf": [{"$ref": ref} for ref in entries.values()],
        "discriminator": {"propertyName": "type", "mapping": entries},
    }
    return components
