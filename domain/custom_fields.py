"""Custom fields: the fields an admin adds to opportunities, leads, contacts and accounts
(the values records hold in them: ``domain.custom_values``).

One aggregate per entity (``CustomFields``, its id from ``domain.ids``) holds that
entity's definitions, so a command creating or changing a record loads one aggregate to
check every value against (and to find the required ones).

Rules this module keeps:
- a key is lower-case letters, digits and underscores, first a letter (at most 40); it
  names one field of its entity for ever: a deleted field's key is never defined again,
  so a value written under it can never be read as another field's;
- a definition's type never changes; its label, options and required flag may;
- ``options`` (1–100 distinct, non-blank, at most 100 characters each) belong to select
  and multiselect fields only, and they must have them.
"""

from __future__ import annotations

import re
from typing import ClassVar, Literal, get_args

import msgspec

from domain import limits
from domain.aggregate import AggregateState, Event, evolve
from domain.errors import InvalidInput, NotFound, RuleViolated

Entity = Literal["opportunity", "lead", "contact", "account"]
ENTITIES: tuple[Entity, ...] = get_args(Entity)
FieldType = Literal[
    "text", "number", "money", "date", "bool", "select", "multiselect", "user", "url"
]
FIELD_TYPES: tuple[FieldType, ...] = get_args(FieldType)
WITH_OPTIONS: tuple[FieldType, ...] = ("select", "multiselect")

KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")


class FieldDefinition(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    label: str
    type: FieldType
    options: tuple[str, ...] = ()
    required: bool = False


class CustomFields(AggregateState, frozen=True, kw_only=True):
    """The custom fields of one entity, and the keys its deleted fields had."""

    kind: ClassVar[str] = "custom_fields"
    entity: Entity
    fields: tuple[FieldDefinition, ...] = ()
    retired: tuple[str, ...] = ()

    def field(self, key: str) -> FieldDefinition | None:
        return next((f for f in self.fields if f.key == key), None)


class CustomFieldDefined(Event[CustomFields], frozen=True, kw_only=True):
    entity: Entity
    key: str
    label: str
    type: FieldType
    options: tuple[str, ...] = ()
    required: bool = False

    def definition(self) -> FieldDefinition:
        return FieldDefinition(
            key=self.key,
            label=self.label,
            type=self.type,
            options=self.options,
            required=self.required,
        )

    def apply(self, state: CustomFields | None) -> CustomFields:
        if state is None:
            state = CustomFields(id=self.originator_id, entity=self.entity)
        return evolve(state, fields=(*state.fields, self.definition()))


class CustomFieldChanged(Event[CustomFields], frozen=True, kw_only=True):
    """The definition as it is now (its key and type never change)."""

    entity: Entity
    key: str
    label: str
    options: tuple[str, ...]
    required: bool

    def apply(self, state: CustomFields) -> CustomFields:
        changed = tuple(
            msgspec.structs.replace(
                f, label=self.label, options=self.options, required=self.required
            )
            if f.key == self.key
            else f
            for f in state.fields
        )
        return evolve(state, fields=changed)


class CustomFieldDeleted(Event[CustomFields], frozen=True, kw_only=True):
    entity: Entity
    key: str

    def apply(self, state: CustomFields) -> CustomFields:
        return evolve(
            state,
            fields=tuple(f for f in state.fields if f.key != self.key),
            retired=(*state.retired, self.key),
        )


CustomFieldsEvent = CustomFieldDefined | CustomFieldChanged | CustomFieldDeleted


# --- definitions -------------------------------------------------------------------------


def _check_label(label: str) -> str:
    label = " ".join(label.split())
    if not label:
        raise InvalidInput("a custom field needs a label.")
    if len(label) > limits.LABEL:
        raise InvalidInput(f"a custom field's label has at most {limits.LABEL} characters.")
    return label


def _check_options(field_type: FieldType, options: tuple[str, ...]) -> tuple[str, ...]:
    if field_type not in WITH_OPTIONS:
        if options:
            raise InvalidInput(f"a {field_type} field takes no options.")
        return ()
    tidied = tuple(" ".join(option.split()) for option in options)
    if not tidied:
        raise InvalidInput(f"a {field_type} field needs at least one option.")
    if len(tidied) > limits.CUSTOM_OPTIONS:
        raise InvalidInput(f"a field has at most {limits.CUSTOM_OPTIONS} options.")
    if any(not option or len(option) > limits.LABEL for option in tidied):
        raise InvalidInput(f"an option is 1 to {limits.LABEL} characters, not blank.")
    if len(set(tidied)) != len(tidied):
        raise InvalidInput("a field's options are distinct.")
    return tidied


def define(
    state: CustomFields | None,
    entity: Entity,
    *,
    key: str,
    label: str,
    type: FieldType,
    options: tuple[str, ...] = (),
    required: bool = False,
) -> list[CustomFieldsEvent]:
    if entity not in ENTITIES:
        raise InvalidInput(f"custom fields are for {', '.join(ENTITIES)}, not {entity!r}.")
    if not KEY.fullmatch(key):
        raise InvalidInput(
            f"a custom field's key is lower-case letters, digits and underscores, first a "
            f"letter, at most 40; not {key!r}."
        )
    if type not in FIELD_TYPES:
        raise InvalidInput(f"a custom field's type is one of {', '.join(FIELD_TYPES)}.")
    if state is not None and state.field(key) is not None:
        raise RuleViolated(f"the {entity} field {key!r} is defined already.")
    if state is not None and key in state.retired:
        raise RuleViolated(
            f"the key {key!r} belonged to a deleted {entity} field; its values stay in "
            "history under it, so choose another key."
        )
    return [
        CustomFieldDefined(
            entity=entity,
            key=key,
            label=_check_label(label),
            type=type,
            options=_check_options(type, options),
            required=required,
        )
    ]


def _defined(state: CustomFields | None, entity: str, key: str) -> FieldDefinition:
    found = None if state is None else state.field(key)
    if found is None:
        raise NotFound(f"there is no {entity} field {key!r}.")
    return found


def change(
    state: CustomFields | None,
    entity: Entity,
    key: str,
    *,
    label: str | None = None,
    options: tuple[str, ...] | None = None,
    required: bool | None = None,
) -> list[CustomFieldsEvent]:
    """Change what is given; a change that changes nothing writes nothing."""
    field = _defined(state, entity, key)
    if options is not None and field.type not in WITH_OPTIONS:
        # The stored field's type refuses them, not the request's shape: a rule (409).
        raise RuleViolated(f"the {field.type} field {key!r} takes no options.")
    event = CustomFieldChanged(
        entity=entity,
        key=key,
        label=field.label if label is None else _check_label(label),
        options=field.options if options is None else _check_options(field.type, options),
        required=field.required if required is None else required,
    )
    if (event.label, event.options, event.required) == (field.label, field.options, field.required):
        return []
    return [event]


def delete(state: CustomFields | None, entity: Entity, key: str) -> list[CustomFieldsEvent]:
    _defined(state, entity, key)
    return [CustomFieldDeleted(entity=entity, key=key)]


__all__ = [
    "ENTITIES",
    "FIELD_TYPES",
    "CustomFieldChanged",
    "CustomFieldDefined",
    "CustomFieldDeleted",
    "CustomFields",
    "FieldDefinition",
]
