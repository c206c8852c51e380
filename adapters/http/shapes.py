"""The machinery of request-body field types (``adapters.http.fields``): each shape
validates a JSON value and writes the JSON schema that says exactly what it checks, so
/openapi.json and the server agree on what a request may hold.

The checks run the patterns (``adapters.http.patterns``) with ``re.fullmatch``, which
reads them as JSON Schema's ECMA 262 does.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from adapters.http.patterns import CURRENCY_CODES, NO_NUL, NOT_BLANK
from domain import limits

DECIMAL = "A decimal string: "  # how a decimal's description begins
NUL_REFUSED = "must not contain the NUL character (\\u0000)"


def _refuse(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


class Shape:
    """What a JSON value must be: ``check`` reads it (or refuses it, with a sentence), and
    ``json_schema`` says exactly that. Put in ``Annotated[...]``, it is the field's whole
    validation and its whole schema."""

    def check(self, value: Any) -> Any:
        raise NotImplementedError

    def json_schema(self) -> JsonSchemaValue:
        raise NotImplementedError

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(self.check)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return self.json_schema()


@dataclass(frozen=True)
class Text(Shape):
    """A JSON string of at most ``max_length`` characters matching ``pattern`` (``says``
    in words), stripped of surrounding whitespace once it passed."""

    max_length: int
    pattern: str = NO_NUL
    says: str = NUL_REFUSED
    description: str | None = None
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", re.compile(self.pattern))

    def check(self, value: Any) -> str:
        if not isinstance(value, str):
            raise _refuse("string_type", "must be text (a JSON string)")
        if len(value) > self.max_length:
            raise _refuse(
                "string_too_long",
                f"must have at most {self.max_length} characters (it has {len(value)})",
            )
        if "\x00" in value:
            raise _refuse("string_pattern_mismatch", NUL_REFUSED)
        if self._compiled.fullmatch(value) is None:
            raise _refuse("string_pattern_mismatch", self.says)
        return value.strip()

    def json_schema(self) -> JsonSchemaValue:
        schema: JsonSchemaValue = {
            "type": "string",
            "maxLength": self.max_length,
            "pattern": self.pattern,
        }
        if self.description:
            schema["description"] = self.description
        return schema


def not_blank(max_length: int) -> Text:
    return Text(max_length, NOT_BLANK, "must not be blank")


@dataclass(frozen=True)
class Spelled(Shape):
    """A JSON string in one spelling (``pattern`` and ``format``), read by ``parse``."""

    format: str
    pattern: str
    max_length: int
    parse: Callable[[str], Any]
    says: str
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", re.compile(self.pattern))

    def check(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise _refuse("spelling", f"must be a JSON string: {self.says}")
        if len(value) > self.max_length or self._compiled.fullmatch(value) is None:
            raise _refuse("spelling", f"must be {self.says}")
        try:
            return self.parse(value)
        except ValueError:
            raise _refuse("spelling", f"must be {self.says}") from None

    def json_schema(self) -> JsonSchemaValue:
        return {
            "type": "string",
            "format": self.format,
            "maxLength": self.max_length,
            "pattern": self.pattern,
        }


@dataclass(frozen=True)
class DecimalText(Shape):
    """A decimal string (``"1234.50"``) matching ``pattern``: read as a Decimal. A JSON
    number is refused: its digits would already have passed through a float."""

    pattern: str
    says: str
    places: int
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", re.compile(self.pattern))

    @property
    def max_length(self) -> int:
        """A sign, the whole part, the point and the places."""
        return 1 + limits.INTEGER_DIGITS + 1 + self.places

    def check(self, value: Any) -> Decimal:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise _refuse(
                "decimal_string", 'must be a decimal string like "1234.50", not a JSON number'
            )
        if not isinstance(value, str):
            raise _refuse("decimal_string", 'must be a decimal string like "1234.50"')
        if len(value) > self.max_length or self._compiled.fullmatch(value) is None:
            raise _refuse(
                "decimal_pattern", f'must be a decimal string like "1234.50": {self.says}'
            )
        return Decimal(value)

    def json_schema(self) -> JsonSchemaValue:
        return {
            "type": "string",
            "maxLength": self.max_length,
            "pattern": self.pattern,
            "description": DECIMAL + self.says,
        }


_WHOLE = f"(0|[1-9][0-9]{{0,{limits.INTEGER_DIGITS - 1}}})"
# What each decimal pattern in use means, in words (docs/api.md says them so).
DECIMAL_PATTERNS: dict[str, str] = {}


def _decimal_text(pattern: str, says: str, places: int) -> DecimalText:
    DECIMAL_PATTERNS[pattern] = says
    return DecimalText(pattern, says, places)


def _digits(places: int) -> str:
    return f"at most {limits.INTEGER_DIGITS} digits before the point and {places} after"


def decimal(places: int) -> DecimalText:
    """Zero or more."""
    return _decimal_text(
        rf"^{_WHOLE}(\.[0-9]{{1,{places}}})?$", f"zero or more, {_digits(places)}", places
    )


def signed_decimal(places: int) -> DecimalText:
    return _decimal_text(
        rf"^-?{_WHOLE}(\.[0-9]{{1,{places}}})?$", f"may be negative, {_digits(places)}", places
    )


def positive_decimal(places: int) -> DecimalText:
    # Above zero: a whole part from 1, or "0." and a fraction with a digit from 1 (spelled
    # out per count of leading zeros, as the patterns do without look-ahead).
    fractions = "|".join(
        "0" * zeros + "[1-9]" + (f"[0-9]{{0,{rest}}}" if (rest := places - 1 - zeros) else "")
        for zeros in range(places)
    )
    return _decimal_text(
        rf"^([1-9][0-9]{{0,{limits.INTEGER_DIGITS - 1}}}(\.[0-9]{{1,{places}}})?"
        rf"|0\.({fractions}))$",
        f"above zero, {_digits(places)}",
        places,
    )


def percentage(places: int) -> DecimalText:
    return _decimal_text(
        rf"^(100(\.0{{1,{places}}})?|(0|[1-9][0-9]?)(\.[0-9]{{1,{places}}})?)$",
        f"from 0 to 100, at most {places} digits after the point",
        places,
    )


@dataclass(frozen=True)
class Whole(Shape):
    """A JSON integer from ``minimum`` to ``maximum``. As JSON Schema counts them, ``5.0``
    is the integer 5; ``true`` and ``"5"`` are none."""

    minimum: int
    maximum: int

    def check(self, value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _refuse("int_type", "must be a whole number (a JSON integer)")
        if not self.minimum <= value <= self.maximum:
            raise _refuse(
                "int_range", f"must be a whole number from {self.minimum} to {self.maximum}"
            )
        return value

    def json_schema(self) -> JsonSchemaValue:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


@dataclass(frozen=True)
class Either(Shape):
    """What ``first`` or ``second`` takes (as ``first`` reads it if both do)."""

    first: Shape
    second: Shape
    says: str

    def check(self, value: Any) -> Any:
        for shape in (self.first, self.second):
            try:
                return shape.check(value)
            except PydanticCustomError:
                pass
        raise _refuse("either", self.says)

    def json_schema(self) -> JsonSchemaValue:
        return {"anyOf": [self.first.json_schema(), self.second.json_schema()]}


@dataclass(frozen=True)
class Scalar(Shape):
    """Text as ``text`` takes it, a number, a boolean or null: a value with no structure."""

    text: Text
    largest: int = 10**limits.INTEGER_DIGITS - 1  # a number, either way from zero

    def check(self, value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            if not -self.largest <= value <= self.largest:
                raise _refuse(
                    "number_range", f"must be a number from -{self.largest} to {self.largest}"
                )
            return value
        if isinstance(value, str):
            return self.text.check(value)
        raise _refuse("scalar", "must be text, a number, a boolean or null")

    def json_schema(self) -> JsonSchemaValue:
        return {
            "anyOf": [
                self.text.json_schema(),
                {"type": "number", "minimum": -self.largest, "maximum": self.largest},
                {"type": "boolean"},
                {"type": "null"},
            ]
        }


class Named:
    """One of a set of names (codes, type names), one schema for every field that takes
    it: a reference ``ref`` to an enum of them, described as ``description``; anything
    else is refused with ``says``."""

    def __init__(self, ref: str, names: Iterable[str], says: str, description: str) -> None:
        self.ref, self.says, self.description = ref, says, description
        self.names = tuple(names)
        self._known = frozenset(self.names)

    def check(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self._known:
            raise _refuse(self.ref, self.says)
        return value

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(
            self.check,
            ref=self.ref,
            json_schema_input_schema=core_schema.literal_schema(list(self.names)),
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        reference = handler(schema)
        handler.resolve_ref_schema(reference)["description"] = self.description
        return reference


def CurrencyCodeShape() -> Named:  # noqa: N802 (a shape, named as the others are)
    """An ISO 4217 code the domain takes: one schema, ``CurrencyCode``, for every field."""
    return Named(
        "CurrencyCode",
        CURRENCY_CODES,
        "must be an ISO 4217 currency code with a minor unit, such as EUR",
        "An ISO 4217 currency code with a minor unit (the codes the domain accepts).",
    )


class NamedKeys:
    """On a mapping whose keys have a pattern: say it as ``propertyNames`` (what every key
    must match) where pydantic writes ``patternProperties``, which would leave keys that
    do not match it free."""

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        patterns = json_schema.pop("patternProperties", None)
        if patterns:
            ((pattern, values),) = patterns.items()
            json_schema["propertyNames"] = {
                **json_schema.get("propertyNames", {}),
                "pattern": pattern,
            }
            json_schema["additionalProperties"] = values
        return json_schema


class NotNull:
    """On ``X | None`` whose None is only its default (a field a PATCH may leave out):
    refuse an explicit null, and leave null out of the schema."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_before_validator_function(not_null, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        alternatives = [a for a in json_schema.pop("anyOf", []) if a.get("type") != "null"]
        if len(alternatives) == 1:
            json_schema.update(alternatives[0])
        elif alternatives:
            json_schema["anyOf"] = alternatives
        return json_schema


def not_null(value: Any) -> Any:
    if value is None:
        raise _refuse("not_null", "cannot be null; leave it out to keep it as it is")
    return value
