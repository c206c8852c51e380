"""Reporting periods: months (``2027-03``), quarters (``2027-Q1``) and years (``2027``)."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from domain.errors import InvalidInput

PeriodKind = Literal["month", "quarter", "year"]
PERIOD_KINDS: tuple[PeriodKind, ...] = ("month", "quarter", "year")

_PATTERNS: tuple[tuple[PeriodKind, re.Pattern[str]], ...] = (
    ("month", re.compile(r"^([1-9][0-9]{3})-(0[1-9]|1[0-2])$")),
    ("quarter", re.compile(r"^([1-9][0-9]{3})-Q([1-4])$")),
    ("year", re.compile(r"^([1-9][0-9]{3})$")),
)
# Any period, as the API's documents state it.
PERIOD_PATTERN = r"^[1-9][0-9]{3}(-(0[1-9]|1[0-2])|-Q[1-4])?$"


def period_of(day: date, kind: PeriodKind) -> str:
    if kind == "month":
        return f"{day.year:04d}-{day.month:02d}"
    if kind == "quarter":
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year:04d}"


def kind_of(label: str) -> PeriodKind:
    for kind, pattern in _PATTERNS:
        if pattern.match(label):
            return kind
    raise InvalidInput(
        f"{label!r} is not a period; write a month (2027-03), a quarter (2027-Q1) or a year (2027)."
    )


def first_day(label: str) -> date:
    kind = kind_of(label)
    year = int(label[:4])
    if kind == "month":
        return date(year, int(label[5:7]), 1)
    if kind == "quarter":
        return date(year, (int(label[6]) - 1) * 3 + 1, 1)
    return date(year, 1, 1)


def last_day(label: str) -> date:
    """The last day of the period ``label``."""
    kind = kind_of(label)
    start = first_day(label)
    months = {"month": 1, "quarter": 3, "year": 12}[kind]
    following = start.month - 1 + months
    year, month = start.year + following // 12, following % 12 + 1
    if year > 9999:
        return date(9999, 12, 31)
    return date.fromordinal(date(year, month, 1).toordinal() - 1)


def as_kind(label: str, kind: PeriodKind, *, end: bool) -> str:
    """``label`` as a period of ``kind``: the one holding its first day, or with ``end``
    its last (``2027-Q1`` is ``2027-01`` as a start and ``2027-03`` as an end in months)."""
    return period_of(last_day(label) if end else first_day(label), kind)
