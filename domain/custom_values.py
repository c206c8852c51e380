"""Custom values: what a record holds in its custom fields (``domain.custom_fields``).

Rules this module keeps:
- a value is checked against its field's type (``check_value``) and kept in its
  canonical form; an unknown key is refused, and so is a create without a required field
  or a change that clears one. Values already set stay what they are when a definition
  changes (an option taken away stays on the records that chose it);
- a read model keeps a value as its canonical text (``text_of``), and a value given as
  text (a list filter, a lead-intake field) reads as its type reads text (``from_text``).
The values by type (each refusal names the field):
- text: a string, trimmed, 1–1000 characters;
- number: a JSON number or a decimal string (``-12.5``: digits, an optional point and
  digits, no exponent), below 10^15 in size with at most 6 decimal places; kept as its
  plain decimal text without trailing zeros (``"12.50"`` → ``"12.5"``);
- money: ``{"amount": "<decimal string>", "currency": "<ISO 4217>"}`` like the API's
  Money: below 10^15, at most the currency's minor-unit places; kept with exactly them;
- date: a ``YYYY-MM-DD`` string, a real day of the years 1000–2999;
- bool: JSON true or false;
- select: one of the options, exactly; multiselect: a non-empty list of distinct
  options, kept in the options' order;
- user: the login of an active user;
- url: ``http://`` or ``https://``, a host of letters, digits, dots and hyphens, an
  optional ``:port``, then optionally a path, query or fragment (``/``, ``?`` or ``#``
  first) without whitespace or control characters; at most 2000 characters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec

from domain import limits
from domain.custom_fields import CustomFields, Entity, FieldDefinition, FieldType
from domain.errors import InvalidInput, NotFound
from domain.money import minor_unit

# A value as records keep it (canonical): text, number, date, select, user and url as a
# string, bool as a bool, multiselect as the chosen options, money as {amount, currency}.
CustomValue = str | bool | tuple[str, ...] | dict[str, str]
# What a record holds: key → value.
CustomValues = dict[str, CustomValue]
# What a change writes: key → the new value, or None where it was cleared.
CustomChanges = dict[str, CustomValue | None]

NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
DAY_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
URL = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?([/?#][\x21-\x7e\u00a0-\U0010ffff]*)?")
URL_SPACE = re.compile(r"[\s\x00-\x20\x7f]")
NUMBER_PLACES = 6
MAX_NUMBER = Decimal(10) ** limits.INTEGER_DIGITS
TEXT_LENGTH = limits.CUSTOM_TEXT
URL_LENGTH = limits.ADDRESS

_NOUNS: dict[FieldType, str] = {
    "text": "a text of 1 to 1000 characters",
    "number": "a number (a decimal below 10^15 with at most 6 places)",
    "money": 'an amount of money like {"amount": "1200.50", "currency": "EUR"}',
    "date": "a date like 2027-03-31",
    "bool": "true or false",
    "select": "one of its options",
    "multiselect": "a list of distinct options",
    "user": "the login of an active user",
    "url": "an http or https URL",
}


# --- values ------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    """A value as a refusal quotes it: short, and as the caller wrote it."""
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:40] + "…"
        return repr(text)
    try:
        text = msgspec.json.encode(value).decode()
    except (TypeError, ValueError, OverflowError):
        text = type(value).__name__
    return text if len(text) <= 40 else text[:40] + "…"


def _refuse(field: FieldDefinition, value: Any) -> InvalidInput:
    return InvalidInput(
        f"custom field {field.key!r} takes {_NOUNS[field.type]}, not {_shown(value)}."
    )


def _decimal(value: Any) -> Decimal | None:
    """A JSON number or a decimal string as a Decimal; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str) and NUMBER_TEXT.fullmatch(value):
        return Decimal(value)
    return None


def decimal_text(number: Decimal) -> str:
    """Plain decimal text without trailing zeros (never an exponent, never ``-0``)."""
    if number.is_zero():
        return "0"
    text = format(number.normalize(), "f")
    return text


def _number(field: FieldDefinition, value: Any) -> str:
    number = _decimal(value)
    if number is None or abs(number) >= MAX_NUMBER:
        raise _refuse(field, value)
    normal = number.normalize()
    exponent = normal.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if -exponent > NUMBER_PLACES:
        raise _refuse(field, value)
    return decimal_text(number)


def _money(field: FieldDefinition, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or set(value) != {"amount", "currency"}:
        raise _refuse(field, value)
    amount, currency = value["amount"], value["currency"]
    if not isinstance(amount, str) or not isinstance(currency, str):
        raise _refuse(field, value)
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise _refuse(field, value)
    try:
        places = minor_unit(currency)
    except InvalidInput:
        raise _refuse(field, value) from None
    number = _decimal(amount) if NUMBER_TEXT.fullmatch(amount) else None
    if number is None or abs(number) >= MAX_NUMBER:
        raise _refuse(field, value)
    exponent = number.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > places:
        raise _refuse(field, value)
    exact = number.quantize(Decimal(1).scaleb(-places))
    return {
        "amount": format(exact.copy_abs() if exact.is_zero() else exact, "f"),
        "currency": currency,
    }


def _day(field: FieldDefinition, value: Any) -> str:
    if not isinstance(value, str) or not DAY_TEXT.fullmatch(value):
        raise _refuse(field, value)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise _refuse(field, value) from None
    if not 1000 <= day.year <= 2999:
        raise _refuse(field, value)
    return value


def _text(field: FieldDefinition, value: Any) -> str:
    if not isinstance(value, str):
        raise _refuse(field, value)
    text = value.strip()
    if not 1 <= len(text) <= TEXT_LENGTH or "\x00" in text:
        raise _refuse(field, value)
    return text


def _url(field: FieldDefinition, value: Any) -> str:
    if (
        not isinstance(value, str)
        or len(value) > URL_LENGTH
        or URL_SPACE.search(value)
        or not URL.fullmatch(value)
    ):
        raise _refuse(field, value)
    return value


def _select(field: FieldDefinition, value: Any) -> str:
    if not isinstance(value, str) or value not in field.options:
        raise _refuse(field, value)
    return value


def _multiselect(field: FieldDefinition, value: Any) -> tuple[str, ...]:
    if (
        not isinstance(value, list | tuple)
        or not value
        or not all(isinstance(v, str) and v in field.options for v in value)
        or len(set(value)) != len(value)
    ):
        raise _refuse(field, value)
    return tuple(option for option in field.options if option in value)


def check_value(
    field: FieldDefinition, value: Any, is_active_user: Callable[[str], bool]
) -> CustomValue:
    """``value`` (as decoded from JSON) in its canonical form, if it is one ``field``
    takes; otherwise InvalidInput naming the field."""
    kind = field.type
    if kind == "text":
        return _text(field, value)
    if kind == "number":
        return _number(field, value)
    if kind == "money":
        return _money(field, value)
    if kind == "date":
        return _day(field, value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise _refuse(field, value)
        return value
    if kind == "select":
        return _select(field, value)
    if kind == "multiselect":
        return _multiselect(field, value)
    if kind == "user":
        if not isinstance(value, str) or not is_active_user(value):
            raise _refuse(field, value)
        return value
    return _url(field, value)


def check_values(
    definitions: CustomFields | None,
    entity: Entity,
    given: Mapping[str, Any],
    is_active_user: Callable[[str], bool],
    *,
    current: Mapping[str, CustomValue] | None = None,
) -> CustomChanges:
    """The values ``given`` for a record of ``entity``, checked and canonical.

    ``current`` None: a new record, whose required fields must all be given (null leaves a
    field unset). Otherwise the record's values: the answer holds only what differs from
    them (None: cleared), and a required field may not be cleared.
    """
    checked: CustomChanges = {}
    for key, value in given.items():
        field = None if definitions is None else definitions.field(key)
        if field is None:
            # The key names a definition, as an id names a record: unknown, it is not there.
            raise NotFound(f"there is no {entity} custom field {key!r}.")
        if value is None:
            if field.required:
                raise InvalidInput(f"custom field {key!r} is required; it cannot be empty.")
            checked[key] = None
        else:
            checked[key] = check_value(field, value, is_active_user)
    if current is None:
        for field in () if definitions is None else definitions.fields:
            if field.required and checked.get(field.key) is None:
                raise InvalidInput(f"custom field {field.key!r} is required for a new {entity}.")
        return {key: value for key, value in checked.items() if value is not None}
    return {key: value for key, value in checked.items() if current.get(key) != value}


def created_values(changes: CustomChanges) -> CustomValues:
    """The values a new record starts with (what ``check_values`` answered for it)."""
    return {key: value for key, value in changes.items() if value is not None}


def merged(
    values: Mapping[str, CustomValue], changes: Mapping[str, CustomValue | None]
) -> CustomValues:
    """A record's values after ``changes`` (None: cleared)."""
    after = dict(values)
    for key, value in changes.items():
        if value is None:
            after.pop(key, None)
        else:
            after[key] = value
    return after


# --- canonical text: how read models keep a value, and how lists compare one ------------

# What a read model's ``custom`` column holds per key: the value's canonical text, or for
# a multiselect the list of its options.
CustomText = str | list[str]


def text_of(value: CustomValue) -> CustomText:
    """A canonical value as text: bool ``true``/``false``, money ``"12.50 EUR"``, a
    multiselect the list of its options, the others their own string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return f"{value['amount']} {value['currency']}"
    if isinstance(value, tuple):
        return list(value)
    return value


def value_of(field_type: FieldType, text: CustomText) -> CustomValue:
    """The value ``text_of`` made ``text`` of, for a field of ``field_type``."""
    if isinstance(text, list):
        return tuple(text)
    if field_type == "bool":
        return text == "true"
    if field_type == "money":
        amount, _, currency = text.partition(" ")
        return {"amount": amount, "currency": currency}
    return text


def query_text(
    field: FieldDefinition, raw: str, is_active_user: Callable[[str], bool] = lambda _: True
) -> str:
    """The canonical text a value given as text (a list filter's ``cf.<key>=<value>``, a
    lead-intake field) stands for: numbers as the decimal text, money as ``"12.5 EUR"``
    or ``"12.50 EUR"``, bool as ``true``/``false``, a multiselect's one option. Refused
    (InvalidInput naming the field) when the field could not hold it."""
    return _single_text(text_of(from_text(field, raw, is_active_user, one_option=True)))


def _single_text(text: CustomText) -> str:
    return text[0] if isinstance(text, list) else text


def from_text(
    field: FieldDefinition,
    raw: str,
    is_active_user: Callable[[str], bool],
    *,
    one_option: bool = False,
) -> CustomValue:
    """A value given as text, checked as ``field`` takes it: bool ``true``/``false``,
    money ``"<amount> <currency>"``, a multiselect its options comma-separated (or just
    one, ``one_option``); the other types as the text itself."""
    if field.type == "bool":
        if raw not in ("true", "false"):
            raise _refuse(field, raw)
        return raw == "true"
    if field.type == "money":
        amount, _, currency = raw.strip().partition(" ")
        return check_value(field, {"amount": amount, "currency": currency.strip()}, is_active_user)
    if field.type == "multiselect":
        chosen = [raw] if one_option else [part.strip() for part in raw.split(",")]
        return check_value(field, chosen, is_active_user)
    return check_value(field, raw, is_active_user)
