"""The patterns and closed sets of request-body text, as the OpenAPI document states them.

Each is written for ECMA 262 (JSON Schema's regular expressions) and means the same to
Python's ``re``: explicit code points (``\\u0000``), ``[0-9]``, no ``\\s``, ``\\d`` or
look-arounds. Each is written from what the domain takes, so text a pattern admits is text
the domain accepts (tests/property/test_field_shapes.py).
"""

from __future__ import annotations

from iso4217 import Currency

from domain import limits
from domain.offer import TOKENS
from domain.periods import PERIOD_PATTERN
from domain.user import LOGIN

# What Python's str.isspace() (and so the domain's strip() and split()) takes for
# whitespace, as ECMA code point ranges.
WHITESPACE = (
    r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
NO_NUL = r"^[^\u0000]*$"
NOT_BLANK = rf"^[^\u0000]*[^\u0000{WHITESPACE}][^\u0000]*$"
LOGIN_PATTERN = rf"^{LOGIN.pattern}$"
# One @ with something on either side, no whitespace within (around it is stripped).
EMAIL = rf"^[{WHITESPACE}]*[^\u0000{WHITESPACE}@]+@[^\u0000{WHITESPACE}@]+[{WHITESPACE}]*$"
STAGE_KEY = r"^[A-Za-z0-9][A-Za-z0-9_]*$"
# An http(s) URL (domain.account.WEBSITE): the scheme, a host, then no whitespace within.
WEBSITE = (
    rf"^[{WHITESPACE}]*[Hh][Tt][Tt][Pp][Ss]?://[^\u0000{WHITESPACE}/?#]+[^\u0000{WHITESPACE}]*"
    rf"[{WHITESPACE}]*$"
)
COUNTRY = r"^[A-Za-z]{2}$"  # ISO 3166-1 alpha-2 (kept upper case)
YEAR = "[12][0-9]{3}"  # 1000–2999, for dates and instants
PERIOD = PERIOD_PATTERN  # the domain's own: 2027, 2027-Q1, 2027-03 (years 1000–9999)
DAY = rf"^{YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
CLOCK = "([01][0-9]|2[0-3]):[0-5][0-9]"
INSTANT = (
    rf"^{YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T{CLOCK}:[0-5][0-9](\.[0-9]{{1,6}})?"
    rf"(Z|[+-]{CLOCK})$"
)
# An offer template (string.Template): text, "$$", and "$token" or "${token}" for the
# tokens of domain.offer, a "$token" not followed by a character that would lengthen it.
_TOKEN = "(" + "|".join(TOKENS) + ")"
_AFTER_TOKEN = rf"[^$\u0000A-Za-z0-9_]|\$\$|\$\{{{_TOKEN}\}}"
TEMPLATE = rf"^([^$\u0000]|\$\$|\$\{{{_TOKEN}\}}|(\${_TOKEN})+({_AFTER_TOKEN}|$))*$"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
POSITION = rf"^[0-9]{{1,{limits.LOG_POSITION_DIGITS}}}$"

# Every code the domain takes as a currency (domain.money.minor_unit): ISO 4217 codes
# with a minor unit.
CURRENCY_CODES = tuple(sorted(c.code for c in Currency if c.exponent is not None))
