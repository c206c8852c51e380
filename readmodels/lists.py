"""Lists: one keyset engine for every list of records the API answers (opportunities,
contacts, quotes, …), over a versioned table (``readmodels.versions``) as of any position.

A ``ListSpec`` says what a list is: its table and row type, the filters it takes (each a
column and how it compares), the columns it sorts by (and its default order), the clauses
every page has (a deleted record is not listed), and whose records a user may see
(``Visibility``: by owner, partner and sharing; or ``Via`` another list's record, as a
quote is seen by whoever sees its opportunity). ``page`` answers one page of it.

Paging is by keyset, never by offset: a page is the records after the last one of the
page before in the list's order (the sort column, then the id, which breaks ties; nulls
after the values ascending, before them descending — PostgreSQL's default, asked of SQLite
explicitly). The key of the last record goes in the cursor with the log position the
first page answered at, so every later page reads the records as they stood then: the
pages of one list are one snapshot, and records written meanwhile are neither skipped nor
repeated, whatever they change.

A filter is any clause over the table's columns (``Clause``: SQL with ``?`` and its
parameters): the spec's ``Filter``s make the plain ones, and a caller may add its own
(a custom field's value, the ids found through a digest).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, NamedTuple

from domain.errors import InvalidInput, NotFound
from readmodels.scope import Scope
from readmodels.slice import Kind, Rows, Table
from readmodels.versions import as_of

# A condition over a list's table: SQL with ``?`` placeholders, and its parameters.
Clause = tuple[str, list[Any]]
# A keyset key's part, as a cursor holds it (``adapters.http.paging.KeyPart``).
KeyPart = str | int | None
# At most this many words of a search are looked for.
MAX_WORDS = 8


class Filter(NamedTuple):
    """How a list parameter filters: the column it compares, and how — ``eq`` equal (one
    of several values, given a list), ``from`` at least, ``to`` at most."""

    column: str
    op: Literal["eq", "from", "to"] = "eq"


class Visibility(NamedTuple):
    """Who sees a record of the list: ``domain.access.sees`` with its owner (and partner
    account) then and its sharing then, for records of sharing ``kind``. ``public``: every
    user sees the record unless it is private (accounts)."""

    kind: str
    owner: str = "owner"
    partner: str | None = None
    public: bool = False


class Via(NamedTuple):
    """A record is seen by whoever sees the record of ``spec`` its ``column`` names."""

    column: str
    spec: ListSpec


class ListSpec(NamedTuple):
    """What one list is (see the module's docstring)."""

    name: str
    table: Table
    row: type[Any]  # a msgspec array-like struct of the table's columns but ``valid_to``
    filters: Mapping[str, Filter]
    sorts: tuple[str, ...]
    default_sort: str
    visibility: Visibility | Via
    always: tuple[str, ...] = ()  # clauses every page has

    def kind_of(self, column: str) -> Kind:
        return dict(zip(self.table.column_names, self.table.kinds(), strict=True))[column]

    @property
    def scope_kind(self) -> str:
        """The sharing kind whose scope decides what a user sees of this list."""
        visibility = self.visibility
        return visibility.kind if isinstance(visibility, Visibility) else visibility.spec.scope_kind


class Sort(NamedTuple):
    column: str
    descending: bool = False

    @property
    def text(self) -> str:
        return f"{'-' if self.descending else ''}{self.column}"


class Page(NamedTuple):
    """One page: its rows, and the key after which the next one begins (None: the last)."""

    rows: list[Any]
    next_key: tuple[KeyPart, ...] | None


def sort_of(spec: ListSpec, text: str | None) -> Sort:
    """``sort=field`` or ``sort=-field`` (descending); none: the list's default."""
    text = text or spec.default_sort
    column = text.removeprefix("-")
    if column not in spec.sorts:
        raise InvalidInput(
            f"sort must be one of {', '.join(spec.sorts)}, each optionally with a leading "
            f"'-' (descending), not {text!r}."
        )
    return Sort(column, text.startswith("-"))


def words_of(q: str) -> list[str]:
    """The words a search looks for: runs of letters and digits, lower case."""
    return re.findall(r"[^\W_]+", q.lower())[:MAX_WORDS]


def filter_clause(rows: Rows, spec: ListSpec, name: str, value: Any) -> Clause:
    """The clause of the list's filter ``name`` with ``value`` (a list: any of them)."""
    how = spec.filters[name]
    kind = spec.kind_of(how.column)
    if how.op == "eq":
        values = value if isinstance(value, list) else [value]
        marks = ", ".join("?" for _ in values)
        return f"{how.column} IN ({marks})", [rows.param(kind, v) for v in values]
    column = rows.ordered(how.column, kind)
    mark = rows.ordered("?", kind)
    return f"{column} {'>=' if how.op == 'from' else '<='} {mark}", [rows.param(kind, value)]


def scope_clause(rows: Rows, spec: ListSpec, scope: Scope, position: int | None) -> Clause:
    """The records of the list ``scope`` sees at ``position``: by owner (or partner
    account), less those with exceptions (private, shared) it may not see, plus those of
    them it may (decided one by one, each with its owner and partner then)."""
    visibility = spec.visibility
    if isinstance(visibility, Via):
        parent = visibility.spec
        standing, params = as_of(position)
        inner, more = scope_clause(rows, parent, scope, position)
        where = " AND ".join([*standing, *parent.always, inner])
        return (
            f"{visibility.column} IN (SELECT id FROM {parent.table.name} WHERE {where})",
            [*params, *more],
        )
    owners = sorted(scope.owners)
    clause = f"{visibility.owner} IN ({', '.join('?' for _ in owners)})"
    params = list(owners)
    if visibility.public:
        # Seen by all but those private (exceptions, decided below).
        clause, params = "1 = 1", []
    elif scope.partner_id is not None and visibility.partner is not None:
        clause = f"({clause} OR {visibility.partner} = ?)"
        params.append(rows.param("id", scope.partner_id))
    if not scope.exceptions:
        return clause, params
    partner = visibility.partner or "NULL"
    standing, standing_params = as_of(position)
    marks = ", ".join("?" for _ in scope.exceptions)
    special = rows.select(
        f"SELECT id, {visibility.owner}, {partner} FROM {spec.table.name} "
        f"WHERE {' AND '.join(standing)} AND id IN ({marks})",
        [*standing_params, *(rows.param("id", i) for i in scope.exceptions)],
        ("id", "text", "id"),
    )
    seen = [
        i
        for i, owner, part in special
        if (visibility.public and not scope.exceptions[i].private) or scope.admits(i, owner, part)
    ]
    hidden = [i for i, _, _ in special if i not in seen]
    if hidden:
        clause = f"({clause} AND id NOT IN ({', '.join('?' for _ in hidden)}))"
        params.extend(rows.param("id", i) for i in hidden)
    if seen:
        clause = f"({clause} OR id IN ({', '.join('?' for _ in seen)}))"
        params.extend(rows.param("id", i) for i in seen)
    return clause, params


def page(
    rows: Rows,
    spec: ListSpec,
    position: int | None,
    *,
    sort: Sort,
    limit: int,
    where: Sequence[Clause] = (),
    scope: Scope | None = None,
    after: Sequence[KeyPart] | None = None,
) -> Page:
    """The records of ``spec`` standing at ``position`` (None: now) that pass ``where``
    and ``scope`` (None: everything), in ``sort`` order then by id, the ``limit`` first
    after the key ``after`` (None: from the start)."""
    standing, params = as_of(position)
    clauses = [*standing, *spec.always]
    for clause, more in where:
        clauses.append(clause)
        params.extend(more)
    if scope is not None:
        clause, more = scope_clause(rows, spec, scope, position)
        clauses.append(clause)
        params.extend(more)
    kind = spec.kind_of(sort.column)
    column = rows.ordered(sort.column, kind)
    if after is not None:
        clause, more = _after(rows, spec, sort, kind, after)
        clauses.append(clause)
        params.extend(more)
    direction = "DESC NULLS FIRST" if sort.descending else "ASC NULLS LAST"
    by_id = "DESC" if sort.descending else "ASC"
    t = spec.table
    names = [c for c in t.column_names if c != "valid_to"]
    found = rows.select(
        f"SELECT {', '.join(names)} FROM {t.name} WHERE {' AND '.join(clauses)} "
        f"ORDER BY {column} {direction}, id {by_id} LIMIT {int(limit) + 1}",
        params,
        t.kinds(names),
    )
    records = [spec.row(*values) for values in found[:limit]]
    if len(found) <= limit:
        return Page(records, None)
    last = records[-1]
    return Page(records, (key_part(kind, getattr(last, sort.column)), last.id))


def _after(rows: Rows, spec: ListSpec, sort: Sort, kind: Kind, after: Sequence[KeyPart]) -> Clause:
    """The records after the key ``after`` (a sort value, an id) in ``sort`` order."""
    value, last_id = after
    if not isinstance(last_id, str):
        raise NotFound("the cursor does not name a record of this list.")
    try:
        key = rows.param("id", last_id)
        bound = None if value is None else rows.param(kind, from_key_part(kind, value))
    except (ValueError, TypeError, InvalidOperation) as error:
        raise NotFound("the cursor does not name a record of this list.") from error
    column = rows.ordered(sort.column, kind)
    mark = rows.ordered("?", kind)
    further, beyond = ("<", "<") if sort.descending else (">", ">")
    if bound is None:  # after a null: the other nulls by id, then (descending) the values
        clause = f"({column} IS NULL AND id {beyond} ?)"
        return (f"({clause} OR {column} IS NOT NULL)" if sort.descending else clause), [key]
    clause = f"({column} {further} {mark} OR ({column} = {mark} AND id {beyond} ?))"
    if not sort.descending:  # ascending, the nulls come last
        clause = f"({clause} OR {column} IS NULL)"
    return clause, [bound, bound, key]


def key_part(kind: Kind, value: Any) -> KeyPart:
    """A sort value as a cursor keeps it: text, a whole number, or None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | str):
        return value
    if isinstance(value, date | Decimal):
        return str(value)
    raise TypeError(f"a {kind} column does not sort: {value!r}")


def from_key_part(kind: Kind, part: KeyPart) -> Any:
    """The sort value a cursor's key part stands for (a ValueError if it is none)."""
    if kind == "date":
        return date.fromisoformat(str(part))
    if kind == "numeric":
        return Decimal(str(part))
    if kind == "flag":
        return bool(part)
    if kind in ("int", "bigint", "instant", "stamp"):
        if not isinstance(part, int):
            raise ValueError(f"not a whole number: {part!r}")
        return part
    if not isinstance(part, str):
        raise ValueError(f"not text: {part!r}")
    return part
