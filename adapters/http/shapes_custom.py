"""The shape of a custom field's value in a request body (``adapters.http.fields``
``CustomValues``): bounded like every value, its type left for the domain to check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError

from adapters.http.patterns import NO_NUL
from adapters.http.shapes import Shape
from domain import limits


@dataclass(frozen=True)
class CustomValueShape(Shape):
    """A custom field's value as the edge takes it, before the domain checks it against
    its field's type: text (kept as sent, not stripped: a select's option is exact), a
    number, a boolean, null, a list of texts (a multiselect) or ``{amount, currency}``
    texts (money). Bounded like every value; which of them fits is the domain's to say."""

    text_length: int = limits.ADDRESS
    items: int = limits.CUSTOM_OPTIONS
    item_length: int = limits.LABEL
    largest: int = 10**limits.INTEGER_DIGITS - 1

    @staticmethod
    def _text(value: Any, length: int) -> bool:
        return isinstance(value, str) and len(value) <= length and "\x00" not in value

    def check(self, value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            if not -self.largest <= value <= self.largest:
                raise PydanticCustomError(
                    "number_range", f"must be a number from -{self.largest} to {self.largest}"
                )
            return value
        if self._text(value, self.text_length):
            return value
        if (
            isinstance(value, list)
            and len(value) <= self.items
            and all(self._text(v, self.item_length) for v in value)
        ):
            return value
        if (
            isinstance(value, dict)
            and set(value) == {"amount", "currency"}
            and all(self._text(v, limits.CODE) for v in value.values())
        ):
            return value
        raise PydanticCustomError(
            "custom_value",
            f"must be text (at most {self.text_length} characters, no NUL), a number, a "
            f"boolean, null, a list of at most {self.items} texts or "
            '{"amount": text, "currency": text}',
        )

    def json_schema(self) -> JsonSchemaValue:
        def text(length: int) -> JsonSchemaValue:
            return {"type": "string", "maxLength": length, "pattern": NO_NUL}

        return {
            "anyOf": [
                text(self.text_length),
                {"type": "number", "minimum": -self.largest, "maximum": self.largest},
                {"type": "boolean"},
                {"type": "null"},
                {"type": "array", "maxItems": self.items, "items": text(self.item_length)},
                {
                    "type": "object",
                    "properties": {"amount": text(limits.CODE), "currency": text(limits.CODE)},
                    "required": ["amount", "currency"],
                    "additionalProperties": False,
                },
            ]
        }
