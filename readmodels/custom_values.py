"""Custom values in read-model rows: how they are kept, and the one place that says how
SQL filters and sorts on them, for SQLite and PostgreSQL alike.

A table with custom values has a ``custom`` column (kind ``json``: TEXT on SQLite, jsonb
on PostgreSQL) holding, per key, the value's canonical text
(``domain.custom_fields.text_of``): a string (``"12.5"``, ``"12.50 EUR"``, ``"true"``,
``"2027-03-31"``, an option, a login, a URL), or for a multiselect the list of its
options. A record without a value has no key.

``custom_filter`` is the clause a list adds for ``cf.<key>=<value>`` (the value as its
canonical text, ``domain.custom_fields.query_text``): equal text, or for a multiselect
one of its options. ``custom_sort`` is the expression to order by: numbers and money by
their amount (a 64-bit float on SQLite, exact on PostgreSQL), the others by their text
(dates and ``false``/``true`` sort right as text). Records without the value give NULL,
which SQLite sorts first and PostgreSQL last: a list says ``NULLS FIRST`` or ``NULLS
LAST`` itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.custom_fields import KEY, FieldDefinition, FieldType
from domain.custom_values import CustomText, CustomValue, text_of, value_of
from readmodels.slice import Rows

# What a ``custom`` column holds: key → canonical text.
CustomTexts = dict[str, CustomText]


def texts(values: Mapping[str, CustomValue]) -> CustomTexts:
    """A record's values as its ``custom`` column keeps them."""
    return {key: text_of(value) for key, value in values.items()}


def changed_texts(
    current: Mapping[str, CustomText], changes: Mapping[str, CustomValue | None]
) -> CustomTexts:
    """``current`` after ``changes`` (None: cleared)."""
    after = dict(current)
    for key, value in changes.items():
        if value is None:
            after.pop(key, None)
        else:
            after[key] = text_of(value)
    return after


def shown(
    stored: Mapping[str, CustomText], definitions: Mapping[str, FieldDefinition]
) -> dict[str, CustomValue]:
    """The values of ``stored`` whose key ``definitions`` defines, as their field type
    reads them: a value of a field deleted by then is not shown (it stays in history)."""
    return {
        key: value_of(definitions[key].type, text)
        for key, text in sorted(stored.items())
        if key in definitions
    }


def _key(key: str) -> str:
    # Keys are checked when defined (lower-case letters, digits, underscores), so one can
    # be written into a JSON path; anything else here is a programming error.
    if not KEY.fullmatch(key):
        raise ValueError(f"{key!r} is not a custom field key")
    return key


def _text(rows: Rows, column: str, key: str) -> str:
    """The SQL of the value's text (NULL without one)."""
    if rows.dialect == "postgresql":
        return f"({column} ->> '{_key(key)}')"
    return f"json_extract({column}, '$.{_key(key)}')"


def custom_filter(
    rows: Rows, key: str, field_type: FieldType, text: str, *, column: str = "custom"
) -> tuple[str, list[Any]]:
    """The clause (and its parameters) keeping the rows whose value of ``key`` is
    ``text`` (canonical); for a multiselect, whose options include it."""
    if field_type == "multiselect":
        if rows.dialect == "postgresql":
            return f"({column} -> '{_key(key)}') @> jsonb_build_array(?::text)", [text]
        return (
            f"EXISTS (SELECT 1 FROM json_each({column}, '$.{_key(key)}') WHERE value = ?)",
            [text],
        )
    return f"{_text(rows, column, key)} = ?", [text]


def custom_sort(rows: Rows, key: str, field_type: FieldType, *, column: str = "custom") -> str:
    """The expression ordering rows by their value of ``key`` (NULL without one)."""
    value = _text(rows, column, key)
    if field_type not in ("number", "money"):
        return value
    if rows.dialect == "postgresql":
        # Money's text is "<amount> <currency>": its amount orders it.
        amount = value if field_type == "number" else f"split_part({value}, ' ', 1)"
        return f"({amount})::numeric"
    # SQLite's CAST reads the longest number the text begins with (the amount).
    return f"CAST({value} AS REAL)"
