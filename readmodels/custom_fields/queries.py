"""The custom field definitions as they stood at any position: the list, and per entity
the definitions an answer reads custom values with."""

from __future__ import annotations

from typing import cast

import msgspec

from domain.custom_fields import Entity, FieldDefinition, FieldType
from readmodels.custom_fields.tables import TABLE, DefinitionRow
from readmodels.slice import Rows
from readmodels.versions import current


def definitions_at(
    rows: Rows, position: int | None = None, entity: Entity | None = None
) -> list[tuple[Entity, FieldDefinition]]:
    """The fields defined at ``position`` (None: now), each with its entity, of ``entity``
    (None: every one), by entity and key; deleted ones are not."""
    clauses, params = ["deleted = ?"], [rows.param("flag", False)]
    if entity is not None:
        clauses.append("entity = ?")
        params.append(entity)
    found = current(
        rows,
        TABLE,
        DefinitionRow,
        position=position,
        clauses=clauses,
        params=params,
        order="entity, key",
    )
    return [(cast("Entity", row.entity), definition(row)) for row in found]


def entity_of(
    rows: Rows, entity: Entity, position: int | None = None
) -> dict[str, FieldDefinition]:
    """Key → definition of ``entity``'s fields at ``position`` (None: now)."""
    return {d.key: d for _, d in definitions_at(rows, position, entity)}


def definition(row: DefinitionRow) -> FieldDefinition:
    return FieldDefinition(
        key=row.key,
        label=row.label,
        type=cast("FieldType", row.type),
        options=tuple(msgspec.json.decode(row.options, type=list[str])),
        required=row.required,
    )
