"""Hypothesis strategies derived from msgspec type information.

``instances(cls)`` builds any msgspec Struct (every domain event included)
from its field types, so a new event type is covered without new test code.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import msgspec
from hypothesis import strategies as st

CURRENCIES = ("EUR", "USD", "GBP", "JPY", "CHF", "KWD")

aware_datetimes = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))]),
)
decimals = st.decimals(
    min_value=-(10**12), max_value=10**12, places=6, allow_nan=False, allow_infinity=False
)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)


def _for(info: msgspec.inspect.Type) -> st.SearchStrategy[Any]:
    inspect = msgspec.inspect
    if isinstance(info, inspect.StrType):
        return texts
    if isinstance(info, inspect.IntType):
        return st.integers(min_value=-(2**40), max_value=2**40)
    if isinstance(info, inspect.BoolType):
        return st.booleans()
    if isinstance(info, inspect.DecimalType):
        return decimals
    if isinstance(info, inspect.UUIDType):
        return st.uuids()
    if isinstance(info, inspect.DateType):
        return st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))
    if isinstance(info, inspect.DateTimeType):
        return aware_datetimes
    if isinstance(info, inspect.NoneType):
        return st.none()
    if isinstance(info, inspect.LiteralType):
        return st.sampled_from(info.values)
    if isinstance(info, inspect.UnionType):
        return st.one_of(*[_for(t) for t in info.types])
    if isinstance(info, inspect.VarTupleType):
        return st.lists(_for(info.item_type), max_size=3).map(tuple)
    if isinstance(info, inspect.TupleType):
        return st.tuples(*[_for(t) for t in info.item_types])
    if isinstance(info, inspect.ListType):
        return st.lists(_for(info.item_type), max_size=3)
    if isinstance(info, inspect.DictType):
        return st.dictionaries(_for(info.key_type), _for(info.value_type), max_size=3)
    if isinstance(info, inspect.StructType):
        fields = {
            f.name: BY_NAME[f.name] if f.name in BY_NAME else _for(f.type) for f in info.fields
        }
        return st.fixed_dictionaries(fields).map(lambda kw: info.cls(**kw))
    if isinstance(info, inspect.AnyType):
        return st.just(None)
    raise NotImplementedError(f"no strategy for {info!r}")


# Fields whose values are drawn by name: money's currency from real codes; who did an
# event from a few (every event has these: drawn as free text, one of each of the ~80
# event types at once would be more data than hypothesis generates).
BY_NAME: dict[str, st.SearchStrategy[Any]] = {
    "currency": st.sampled_from(CURRENCIES),
    "by": st.sampled_from([None, "alice", "cli:ops", "system:contracts"]),
    "request_id": st.none() | st.uuids().map(str),
    "causation_id": st.none() | st.uuids().map(str),
}


def instances(cls: type[msgspec.Struct]) -> st.SearchStrategy[Any]:
    return _for(msgspec.inspect.type_info(cls))
