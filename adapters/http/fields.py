"""The types of request-body fields: each a JSON type, a limit (``domain.limits``) and
a shape (``adapters.http.shapes``), written into /openapi.json as exactly what the server
checks, so a request is refused for its shape when, and only when, the document says so.

- Text is a JSON string of at most a given length without the NUL character; most also
  match a pattern (not blank, a login, a stage key…). The checks apply to the text as
  sent; only then is it stripped of surrounding whitespace, as the domain strips what it
  keeps.
- Decimals (amounts, prices, quantities, weights, rates, discounts) are decimal strings
  (``"1234.50"``): a JSON number is refused, as the public contract has it.
- Ids, dates and instants are strings in one spelling each (RFC 4122, RFC 3339, years
  1000–2999); nothing else (no numbers, no other spellings) is read as one.
- Whole numbers are JSON integers (``5.0`` counts, as in JSON Schema; ``"5"`` and
  ``true`` do not), with bounds; booleans are JSON booleans (``Body`` is strict).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, TypeVar
from uuid import UUID

from adapters.http.patterns import (
    COUNTRY,
    DAY,
    EMAIL,
    INSTANT,
    LOGIN_PATTERN,
    PERIOD,
    POSITION,
    STAGE_KEY,
    TEMPLATE,
    UUID_PATTERN,
    WEBSITE,
)
from adapters.http.shapes import (
    CurrencyCodeShape,
    Either,
    NotNull,
    Scalar,
    Spelled,
    Text,
    Whole,
    decimal,
    not_blank,
    percentage,
    positive_decimal,
    signed_decimal,
)
from domain import limits
from domain.offer import TOKENS

T = TypeVar("T")

# --- the field types ---------------------------------------------------------------------

Name = Annotated[str, not_blank(limits.NAME)]
Code = Annotated[str, not_blank(limits.CODE)]
Label = Annotated[str, Text(limits.LABEL)]
FieldName = Annotated[str, not_blank(limits.LABEL)]
Subject = Annotated[str, not_blank(limits.SUBJECT)]
Reason = Annotated[str, not_blank(limits.REASON)]
Unit = Annotated[str, not_blank(limits.UNIT)]
ShortText = Annotated[str, Text(limits.NAME)]  # may be blank
Address = Annotated[str, Text(limits.ADDRESS)]
LongText = Annotated[str, Text(limits.LONG_TEXT)]
Phone = Annotated[str, Text(limits.PHONE)]
OfferTemplate = Annotated[
    str,
    Text(
        limits.LONG_TEXT,
        TEMPLATE,
        "must be a template: text, $$ for a dollar sign, and $token or ${token} for a token"
        f" ({', '.join(TOKENS)})",
    ),
]
Email = Annotated[
    str, Text(limits.EMAIL, EMAIL, "must be an e-mail address (one @, no whitespace within)")
]
Login = Annotated[
    str,
    Text(limits.LOGIN, LOGIN_PATTERN, "must be a login (lower case letters, digits, . _ @ -)"),
]
StageKey = Annotated[
    str,
    Text(
        limits.CODE, STAGE_KEY, "must be letters, digits and underscores, first a letter or digit"
    ),
]
CurrencyCode = Annotated[str, CurrencyCodeShape()]
Website = Annotated[
    str, Text(limits.URL, WEBSITE, "must be an http or https URL, such as https://example.com")
]
VatId = Annotated[str, Text(limits.VAT_ID)]
Street = Annotated[str, Text(limits.STREET)]
City = Annotated[str, Text(limits.CITY)]
PostalCode = Annotated[str, Text(limits.POSTAL_CODE)]
Region = Annotated[str, Text(limits.REGION)]
Country = Annotated[
    str, Text(2, COUNTRY, "must be a two-letter ISO 3166-1 country code, such as DE")
]

INSTANT_SAYS = "an instant with offset like 2027-03-31T17:00:00Z (years 1000–2999)"
PERIOD_TEXT = Text(7, PERIOD, "must be a month (2027-03), a quarter (2027-Q1) or a year (2027)")
DAY_TEXT = Spelled("date", DAY, 10, date.fromisoformat, "a date like 2027-03-31 (years 1000–2999)")


def _instant_text(text: str) -> str:
    datetime.fromisoformat(text)
    return text


Period = Annotated[str, PERIOD_TEXT]
Uuid = Annotated[UUID, Spelled("uuid", UUID_PATTERN, 36, UUID, "an id (a UUID)")]
Day = Annotated[date, DAY_TEXT]
Instant = Annotated[
    datetime, Spelled("date-time", INSTANT, 35, datetime.fromisoformat, INSTANT_SAYS)
]
# A date (a pipeline chart's bounds) or a period (a forecast chart's).
DayOrPeriod = Annotated[
    date | str, Either(DAY_TEXT, PERIOD_TEXT, "must be a date like 2027-03-31 or a period")
]
# A log position, or an instant checked as one and kept as the text sent.
PositionOrInstant = Annotated[
    str,
    Either(
        Text(limits.LOG_POSITION_DIGITS, POSITION, "must be a log position"),
        Spelled("date-time", INSTANT, 35, _instant_text, INSTANT_SAYS),
        f"must be a log position or {INSTANT_SAYS}",
    ),
]

Amount = Annotated[Decimal, decimal(limits.MONEY_PLACES)]
PositiveAmount = Annotated[Decimal, positive_decimal(limits.MONEY_PLACES)]
SignedAmount = Annotated[Decimal, signed_decimal(limits.MONEY_PLACES)]
Price = Annotated[Decimal, decimal(limits.PRICE_PLACES)]
Quantity = Annotated[Decimal, positive_decimal(limits.QUANTITY_PLACES)]
Weight = Annotated[Decimal, positive_decimal(limits.WEIGHT_PLACES)]
Rate = Annotated[Decimal, positive_decimal(limits.RATE_PLACES)]
Discount = Annotated[Decimal, percentage(limits.DISCOUNT_PLACES)]

Probability = Annotated[int, Whole(0, limits.PERCENT)]
SharePercent = Annotated[int, Whole(1, limits.PERCENT)]
TermMonths = Annotated[int, Whole(1, limits.TERM_MONTHS)]
TokenDays = Annotated[int, Whole(1, limits.TOKEN_DAYS)]
RulePriority = Annotated[int, Whole(0, limits.RULE_PRIORITY)]

# An intake's further field: text, a number, a boolean or null.
ExtraValue = Annotated[str | int | float | bool | None, Scalar(Text(limits.ADDRESS))]


# A field a PATCH may leave out but not set to null (the schema has no null for it).
Omittable = Annotated[T | None, NotNull()]
