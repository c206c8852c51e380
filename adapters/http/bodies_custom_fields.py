"""Request bodies of the custom field routes (an admin's setting)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from adapters.http.bodies import Body, example
from adapters.http.fields import CustomKey, Omittable
from adapters.http.shapes import not_blank
from commands.custom_fields import ChangeCustomField, DefineCustomField
from domain import limits
from domain.custom_fields import FIELD_TYPES, WITH_OPTIONS, Entity, FieldType

Label = Annotated[str, not_blank(limits.LABEL)]
Options = Annotated[
    list[Label],
    Field(
        min_length=1,
        max_length=limits.CUSTOM_OPTIONS,
        description="The choices of a select or multiselect field (distinct); others none",
    ),
]


def _options_by_type() -> list[dict[str, Any]]:
    """One shape per field type: options given (a list) for a select or multiselect, and
    for no other type (absent or null)."""
    return [
        {
            "required": ["options"],
            "properties": {"type": {"const": kind}, "options": {"type": "array"}},
        }
        if kind in WITH_OPTIONS
        else {"properties": {"type": {"const": kind}, "options": {"type": "null"}}}
        for kind in FIELD_TYPES
    ]


class CustomFieldBody(Body):
    model_config = example(
        {
            "entity": "opportunity",
            "key": "budget",
            "label": "Budget",
            "type": "money",
            "required": False,
        },
        oneOf=_options_by_type(),
    )
    entity: Entity
    key: CustomKey
    label: Label
    type: FieldType
    options: Options | None = None
    required: bool = Field(False, description="Every new record must have a value")

    def to_command(self) -> DefineCustomField:
        return DefineCustomField(
            entity=self.entity,
            key=self.key,
            label=self.label,
            type=self.type,
            options=tuple(self.options or ()),
            required=self.required,
        )


class CustomFieldPatch(Body):
    """Send only what changes (a field's key and type never change)."""

    model_config = example({"label": "Budget (net)", "required": True})
    label: Omittable[Label] = None
    options: Omittable[Options] = None
    required: Omittable[bool] = None

    def to_command(self, entity: Entity, key: str) -> ChangeCustomField:
        given = self.model_dump(exclude_unset=True)
        if "options" in given:
            given["options"] = tuple(given["options"])
        return ChangeCustomField(entity=entity, key=key, **given)
