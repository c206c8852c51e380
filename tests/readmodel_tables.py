"""Every read-model table's name, for tests that drop or scan them all."""

from __future__ import annotations

from adapters.readmodel_store import tables_of
from readmodels import SLICES

ALL_TABLES = tuple(t.name for t in tables_of(SLICES))
