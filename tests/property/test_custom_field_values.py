"""Custom field values: the validator (``domain.custom_fields.check_value``) accepts
exactly the values valid for the field's type, as a reference predicate per type says it
independently, over generated values of every JSON shape (null, booleans, numbers,
strings, lists, objects) and the near misses of each type; and what it keeps is a value
it accepts again, unchanged."""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from iso4217 import Currency

from domain.custom_fields import FIELD_TYPES, FieldDefinition, FieldType
from domain.custom_values import check_value
from domain.errors import InvalidInput

OPTIONS = ("gold", "silver", "Gold Plus")
ACTIVE = frozenset({"alice", "bob"})
CODES = frozenset(c.code for c in Currency if c.exponent is not None)
PLACES = {c.code: c.exponent for c in Currency if c.exponent is not None}


# --- the reference predicates, one per type ------------------------------------------------


def _digits_fit(text: str, places: int) -> bool:
    """``text`` is ``-?digits(.digits)?`` below 10^15 in size with at most ``places``
    significant decimal places."""
    found = re.fullmatch(r"-?([0-9]+)(?:\.([0-9]+))?", text)
    if found is None:
        return False
    whole, fraction = found.group(1).lstrip("0"), (found.group(2) or "").rstrip("0")
    return len(whole) <= 15 and len(fraction) <= places


def ref_text(v: Any) -> bool:
    return isinstance(v, str) and 1 <= len(v.strip()) <= 1000 and "\x00" not in v


def ref_number(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return _digits_fit(str(v), 6)
    if isinstance(v, float):
        return math.isfinite(v) and _digits_fit(format(Decimal(repr(v)), "f"), 6)
    return isinstance(v, str) and _digits_fit(v, 6)


def ref_money(v: Any) -> bool:
    if not isinstance(v, dict) or sorted(v) != ["amount", "currency"]:
        return False
    amount, currency = v["amount"], v["currency"]
    return (
        isinstance(amount, str)
        and isinstance(currency, str)
        and currency in CODES
        and _digits_fit(amount, PLACES[currency])
    )


def ref_date(v: Any) -> bool:
    if not isinstance(v, str) or len(v) != 10 or v[4] != "-" or v[7] != "-":
        return False
    parts = v[:4], v[5:7], v[8:]
    if not all(p.isascii() and p.isdigit() for p in parts):
        return False
    year, month, day = map(int, parts)
    return (
        1000 <= year <= 2999
        and 1 <= month <= 12
        and 1 <= day <= calendar.monthrange(year, month)[1]
    )


def ref_bool(v: Any) -> bool:
    return type(v) is bool


def ref_select(v: Any) -> bool:
    return isinstance(v, str) and v in OPTIONS


def ref_multiselect(v: Any) -> bool:
    return (
        isinstance(v, list)
        and len(v) >= 1
        and all(isinstance(x, str) and x in OPTIONS for x in v)
        and len(set(v)) == len(v)
    )


def ref_user(v: Any) -> bool:
    return isinstance(v, str) and v in ACTIVE


def ref_url(v: Any) -> bool:
    if not isinstance(v, str) or len(v) > 2000:
        return False
    if any(c.isspace() or ord(c) < 0x21 or 0x7F <= ord(c) <= 0x9F for c in v):
        return False
    for scheme in ("http://", "https://"):
        if v.startswith(scheme):
            rest = v[len(scheme) :]
            break
    else:
        return False
    cut = min((rest.index(c) for c in "/?#" if c in rest), default=len(rest))
    host, colon, port = rest[:cut].partition(":")
    if colon and not (1 <= len(port) <= 5 and port.isascii() and port.isdigit()):
        return False
    return bool(host) and all(c.isascii() and (c.isalnum() or c in ".-") for c in host)


REFERENCE: dict[FieldType, Callable[[Any], bool]] = {
    "text": ref_text,
    "number": ref_number,
    "money": ref_money,
    "date": ref_date,
    "bool": ref_bool,
    "select": ref_select,
    "multiselect": ref_multiselect,
    "user": ref_user,
    "url": ref_url,
}


# --- generated values: every JSON shape, and the near misses of each type ----------------


@st.composite
def decimal_texts(draw: st.DrawFn) -> str:
    """Decimals around the limits: 13–16 whole digits, 0–8 places, trailing zeros."""
    sign = draw(st.sampled_from(["", "-"]))
    whole = draw(st.integers(0, 10**16)) if draw(st.booleans()) else draw(st.integers(0, 999))
    places = draw(st.integers(0, 8))
    if places == 0:
        return f"{sign}{whole}"
    fraction = str(draw(st.integers(0, 10**places - 1))).zfill(places)
    zeros = "0" * draw(st.integers(0, 2))
    return f"{sign}{whole}.{fraction}{zeros}"


odd_numbers = st.sampled_from(["1e3", "+1", "1.", ".5", " 1", "1 ", "-0", "0.000000", "٣", "1_0"])
day_texts = (
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
    | st.dates().map(str)
    | st.sampled_from(["2027-3-01", "2027/03/01", "20270301", "2027-02-29", "2028-02-29"])
    # the first and last years taken, and those either side
    | st.dates().map(lambda d: f"{(999, 1000, 2999, 3000)[d.year % 4]:04d}{str(d)[4:]}")
)


@st.composite
def with_one_odd(draw: st.DrawFn, plain: str, odd: str, max_size: int) -> str:
    """Text of ``plain`` characters, now and then with one of ``odd`` put in."""
    text = draw(st.text(st.sampled_from(plain), max_size=max_size))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(odd)) + text[at:]
    return text


ODD = "_@!~:%é [\x7f\x85\x9f\x10\u00a0\u2028\u3000"
PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))
url_texts = st.builds(
    lambda scheme, host, port, tail: f"{scheme}{host}{port}{tail}",
    # mostly the right parts, each now and then wrong
    st.sampled_from(["http://"] * 3 + ["https://"] * 3 + ["ftp://", "HTTP://", "http:/", ""]),
    with_one_odd("abcXYZ019.-", ODD, 8),
    st.sampled_from([""] * 4 + [":8", ":443", ":12345", ":", ":123456", ":x"]),
    st.sampled_from(["", "/", "/", "?", "#", "x"]).flatmap(
        lambda first: with_one_odd(PRINTABLE + "éü", ODD, 8).map(lambda rest: first + rest)
    ),
)
named = st.sampled_from([*OPTIONS, " gold", "GOLD", "alice", "carol", "", " ", "true", "EUR"])
strings = st.text(max_size=30) | decimal_texts() | odd_numbers | day_texts | url_texts | named
numbers = (
    st.integers(min_value=-(10**17), max_value=10**17)
    | st.floats(allow_nan=True)
    | decimal_texts().map(float)
)
scalars = st.none() | st.booleans() | numbers | strings
money_like = st.fixed_dictionaries(
    {
        "amount": decimal_texts() | odd_numbers | numbers | st.none(),
        "currency": st.sampled_from(["EUR", "JPY", "KWD", "XXX", "eur", "EU", "XAU", "BHD"]),
    },
    optional={"note": st.text(max_size=3)},
)
option_lists = st.lists(st.sampled_from([*OPTIONS, "bronze", " gold"]), max_size=4)
json_values = st.recursive(
    scalars | money_like | option_lists,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["amount", "currency", "x"]), inner, max_size=3)
    ),
    max_leaves=6,
)
# Per type, its near misses beside every other shape.
FOCUSED: dict[FieldType, st.SearchStrategy[Any]] = {
    "text": st.text(max_size=5) | st.text(min_size=995, max_size=1005) | st.just("\x00 "),
    "number": decimal_texts() | numbers | odd_numbers,
    "money": money_like,
    "date": day_texts,
    "bool": st.booleans() | st.sampled_from([0, 1, "true", "false"]),
    "select": named,
    "multiselect": option_lists,
    "user": named,
    "url": url_texts,
}


def accepts(field: FieldDefinition, value: Any) -> bool:
    try:
        check_value(field, value, lambda login: login in ACTIVE)
    except InvalidInput:
        return False
    return True


def field_of(kind: FieldType) -> FieldDefinition:
    return FieldDefinition(
        key="f", label="F", type=kind, options=OPTIONS if kind in ("select", "multiselect") else ()
    )


@pytest.mark.parametrize("kind", FIELD_TYPES)
@settings(max_examples=400)
@given(data=st.data())
def test_the_validator_accepts_exactly_the_values_valid_for_the_type(
    kind: FieldType, data: st.DataObject
) -> None:
    value = data.draw(json_values | FOCUSED[kind], label="value")
    field = FieldDefinition(
        key="f", label="F", type=kind, options=OPTIONS if kind in ("select", "multiselect") else ()
    )
    assert accepts(field, value) == REFERENCE[kind](value), (kind, value)


@pytest.mark.parametrize("kind", FIELD_TYPES)
@settings(max_examples=100)
@given(data=st.data())
def test_a_kept_value_is_accepted_again_and_kept_as_it_is(
    kind: FieldType, data: st.DataObject
) -> None:
    value = data.draw(FOCUSED[kind], label="value")
    field = FieldDefinition(
        key="f", label="F", type=kind, options=OPTIONS if kind in ("select", "multiselect") else ()
    )
    if not accepts(field, value):
        return
    kept = check_value(field, value, lambda login: login in ACTIVE)
    again = list(kept) if isinstance(kept, tuple) else kept
    assert check_value(field, again, lambda login: login in ACTIVE) == kept
