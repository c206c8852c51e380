"""How read models keep values in memory: one convention for every slice.

Ids are UUID text; amounts are integers in the minor unit of their own currency
(charts sum integers, not Decimals); dates are ordinals (``date.toordinal``);
instants are microseconds since the Unix epoch (UTC); ``NONE`` (-1) means none.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

NONE = -1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=4096)
def micros(instant: datetime) -> int:
    # Cached: the events of one save share their instant, and a replay converts each.
    since = instant - EPOCH  # exact integer arithmetic, no float timestamp
    return (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds


def instant(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def to_minor(amount: Decimal, places: int) -> int:
    return int(amount.scaleb(places))


def from_minor(value: int, places: int) -> Decimal:
    return Decimal(value).scaleb(-places)


def text(value: object) -> str | None:
    """An id (a UUID, or its text) as text; None stays None."""
    return None if value is None else str(value)
