"""What a read-model slice is, and what it may ask of the database.

A slice is one read model: the event types it reads, how each changes its state
(``handlers``: its evolve), the tables it owns, and the rows a batch of events
changed (``flush``). The projector (``projections/``) knows slices only through
this protocol; the SQLite and PostgreSQL code (``adapters/readmodel_store/``)
knows them only through their ``Table`` declarations and the ``Write`` values
they hand over. So a new read model is a package with its evolve, tables and
queries, and one line in ``readmodels.SLICES``.

Values cross this seam as plain Python, one convention for every slice: ids as
UUID text, amounts as ``Decimal``, dates as ``date``, instants as microseconds since
the epoch (``readmodels.values``) or as aware ``datetime`` (kind ``moment``). The
store turns them into each database's column values and back, by column kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, NamedTuple, Protocol, TypeVar

from domain.events import DomainEvent, registered_event_types, topic_of
from readmodels.values import NONE
from readmodels.version import VERSION

# How a column's values are kept (the store maps each to its database's type):
#   id       UUID text                     text        any text       int/bigint  integers
#   numeric  Decimal                       currency    ISO 4217 code  date        date
#   instant  micros since the epoch (NONE: null)       moment         aware datetime
#   stamp    micros, kept as a number on SQLite        flag           bool
#   json     dict of text                  bytes       bytes
Kind = Literal[
    "id",
    "text",
    "int",
    "bigint",
    "numeric",
    "currency",
    "date",
    "instant",
    "moment",
    "stamp",
    "flag",
    "json",
    "bytes",
]


def table(name: str) -> str:
    """A read-model table's name: its projection version in it, so a new version can be
    rebuilt beside the old one."""
    return f"{name}_{VERSION}"


class Column(NamedTuple):
    name: str
    kind: Kind
    required: bool = False  # NOT NULL


class Table(NamedTuple):
    """A table a slice owns, as analysts read it with SQL."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the primary key
    indexes: tuple[tuple[str, ...], ...] = ()
    # A view of the rows still valid (``valid_to IS NULL``), for temporal tables.
    current_view: str | None = None
    # Text columns searched by words (``Rows.match``): the store keeps a full-text index
    # of them (SQLite FTS5, PostgreSQL GIN over ``to_tsvector('simple', …)``).
    search: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def kinds(self, names: Sequence[str] | None = None) -> tuple[Kind, ...]:
        """The kinds of ``names`` (default: every column, in order)."""
        by_name = {c.name: c.kind for c in self.columns}
        return tuple(by_name[n] for n in (names or self.column_names))


Operation = Literal["insert", "upsert", "update"]


class Write(NamedTuple):
    """Rows for one table, written in one statement (repeated per row, or in bulk).

    ``insert`` and ``upsert`` rows hold every column of the table, in order; ``upsert``
    replaces a row with the same key. ``update`` rows hold the values of ``columns``
    then those of ``where`` (a key), and set the first on the row the second names.
    """

    table: str
    operation: Operation
    rows: list[tuple[Any, ...]]
    columns: tuple[str, ...] = ()
    where: tuple[str, ...] = ()
    # Turns each row from the slice's memory form (minor units, day ordinals, NONE) into
    # the plain values above, where the rows are written: in a rebuild that is the writer
    # process, so the projecting one neither converts nor pickles Decimals and dates. A
    # module-level function (it is pickled by name).
    prepare: Callable[[Sequence[Any]], tuple[Any, ...]] | None = None


class Rows(Protocol):
    """What a slice's loading and queries may ask of the database.

    Statements use ``?`` for parameters; the store adapts them to its database.
    """

    def select(
        self, statement: str, params: Sequence[Any] = (), kinds: Sequence[Kind] | None = None
    ) -> list[tuple[Any, ...]]:
        """The rows of ``statement``, each value turned back from its column's ``kinds``
        (None: as the database returns them)."""

    def param(self, kind: Kind, value: Any) -> Any:
        """A value as a parameter compared with a column of ``kind``."""

    @property
    def no_limit(self) -> str:
        """What ``LIMIT`` takes for no limit (with an ``OFFSET``)."""

    @property
    def dialect(self) -> Literal["sqlite", "postgresql"]:
        """Which SQL the database speaks, for the few expressions written per database
        (JSON in ``readmodels.custom_values``)."""

    def match(self, table: Table, words: Sequence[str]) -> tuple[str, list[Any]]:
        """A clause (with its parameters) true for the rows of ``table`` whose searched
        columns (``Table.search``) hold every one of ``words`` (lower case letters and
        digits), each as a word or the beginning of one; answered by the full-text index."""

    def ordered(self, column: str, kind: Kind) -> str:
        """What sorts and compares ``column`` of ``kind`` in value order (a numeric column
        kept as text is cast)."""


class Progress:
    """Where a projection stands in the log, shared by its slices.

    ``recorded_at``: when the last event the read model applied was recorded (micros);
    ``recorded_max``: the latest of all those (it only grows with the position, so
    instants map to positions through it).
    """

    __slots__ = ("position", "recorded_at", "recorded_max")

    def __init__(
        self, position: int = 0, recorded_at: int = NONE, recorded_max: int = NONE
    ) -> None:
        self.position = position
        self.recorded_at = recorded_at
        self.recorded_max = max(recorded_max, recorded_at)


S = TypeVar("S")
# evolve(state, event, position, originator id as text)
Handler = Callable[[S, Any, int, str], None]


class Slice(Protocol[S]):
    """One read model: its evolve, its tables, what it writes and loads."""

    name: str
    tables: tuple[Table, ...]

    @property
    def handlers(self) -> Mapping[type[DomainEvent], Handler[S]]:
        """How each event type it reads changes its state."""

    def empty(self, progress: Progress) -> S:
        """Its state before any event (a rebuild)."""

    def load(self, rows: Rows, progress: Progress) -> S:
        """Its state as its tables hold it, at ``progress`` (the projector starts there)."""

    def flush(self, state: S) -> list[Write]:
        """The rows that changed since the last flush (and forget them)."""


class EnvelopeReader(Protocol):
    """A slice whose handlers read only an event's envelope (``domain.events.Envelope``:
    which aggregate and version, when, who caused it), never its body. An event that no
    other slice reads is decoded only that far (``Projection.bodies``); its handlers take
    the event itself where a caller has it decoded already (the Kafka-side projector)."""

    reads_bodies: Literal[False]


def reads_bodies(slice_: object) -> bool:
    """Does the slice read events' bodies (every slice but an ``EnvelopeReader``)?"""
    return bool(getattr(slice_, "reads_bodies", True))


S_contra = TypeVar("S_contra", contravariant=True)


class Checkpointing(Protocol[S_contra]):
    """A slice that keeps its state in memory takes checkpoints of it, so that a query as
    of a past position replays at most one checkpoint interval."""

    def checkpoint(
        self, state: S_contra, progress: Progress, interval: int, full_every: int
    ) -> Write:
        """The checkpoint at ``progress.position`` (a multiple of ``interval``): full every
        ``full_every``-th multiple, else a delta of what changed since the last full one."""


def topics(event_types: Iterable[type[DomainEvent]]) -> frozenset[str]:
    """The stored topics of ``event_types``: every stored version of each (``Name`` for
    version 1, ``Name@vN`` after), so a projection reads those and skips the rest
    undecoded."""
    return frozenset(
        topic_of(cls, version) for cls in event_types for version in range(1, cls.class_version + 1)
    )


def every_topic() -> frozenset[str]:
    """Every stored topic of every registered event type."""
    return topics(registered_event_types().values())
