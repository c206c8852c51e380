"""Query parameters every read shares, typed so that the OpenAPI document says exactly
what the server takes: a value the document admits is never refused for its shape, and
one it does not admit is refused (422) with the format it wants."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)

from domain.periods import PERIOD_PATTERN

POSITION = r"^[0-9]{1,30}$"
# RFC 3339, what the document's `date-time` format means: a date, `T`, a time, an offset.
_INSTANT = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
_AWARE: TypeAdapter[datetime] = TypeAdapter(AwareDatetime)
INSTANT_EXAMPLE = "2027-03-31T17:00:00Z"


def instant(text: str) -> datetime:
    """An RFC 3339 instant with its offset, or ValueError naming the format."""
    problem = f"must be an instant with offset like {INSTANT_EXAMPLE}"
    if not _INSTANT.fullmatch(text):
        raise ValueError(problem)
    try:
        return _AWARE.validate_python(text.upper())
    except ValidationError:
        raise ValueError(problem) from None


def _day(value: Any) -> Any:
    # pydantic would also take a count of seconds ("0" is 1970-01-01): the document says
    # a date, so only a date is one.
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("must be a date like 2027-03-31")
    return value


def _as_of(value: str | None) -> str | None:
    if value is None or re.fullmatch(POSITION, value):
        return value
    try:
        return instant(value).isoformat()
    except ValueError:
        raise ValueError(
            f"must be a log position (e.g. 1200) or an instant with offset like {INSTANT_EXAMPLE}"
        ) from None


def _schema(description: str, *alternatives: dict[str, Any]) -> WithJsonSchema:
    if len(alternatives) == 1:
        return WithJsonSchema({**alternatives[0], "description": description})
    return WithJsonSchema({"anyOf": list(alternatives), "description": description})


AsOf = Annotated[
    str | None,
    Query(),
    AfterValidator(_as_of),
    _schema(
        "Answer as the read model stood at this log position, or at this instant "
        f"(with offset, e.g. {INSTANT_EXAMPLE})",
        {"type": "string", "pattern": POSITION},
        {"type": "string", "format": "date-time"},
    ),
]
WAIT_FOR: Any = Query(
    None,
    ge=0,
    le=10**18,
    description="Wait (a few seconds) until the read model has processed this position; a "
    "position past the log's end is refused at once (422)",
)
_PERIOD = (
    "a month (2027-03), a quarter (2027-Q1) or a year (2027); one of another kind than "
    "`period` counts by its days"
)
PERIOD_FROM: Any = Query(
    None, alias="from", pattern=PERIOD_PATTERN, description=f"The first period: {_PERIOD}"
)
PERIOD_TO: Any = Query(
    None, alias="to", pattern=PERIOD_PATTERN, description=f"The last period: {_PERIOD}"
)
# A day, written as one (`2027-03-31`).
Day = Annotated[date, BeforeValidator(_day)]
