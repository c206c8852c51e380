"""Request bodies of the custom field routes (an admin's setting)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from adapters.http.bodies import Body, example
from adapters.http.fields import CustomKey, Omittable
from adapters.http.shapes import not_blank
from commands.custom_fields import ChangeCustomField, DefineCustomField
from domain import limits
from domain.custom_fields import Entity, FieldType

Label = Annotated[str, not_blank(limits.LABEL)]
Options = Annotated[
    list[Label],
    Field(
        max_length=limits.CUSTOM_OPTIONS,
        description="The choices of a select or multiselect field (distinct); others none",
    ),
]


class CustomFieldBody(Body):
    model_config = example(
        {
            "entity": "opportunity",
            "key": "budget",
            "label": "Budget",
            "type": "money",
            "required": False,
        }
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
