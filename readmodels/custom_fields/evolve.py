"""How custom field events change the custom fields read model: a new version of the
definition's row (its id derives from entity and key, ``domain.ids``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from domain.custom_fields import CustomFieldChanged, CustomFieldDefined, CustomFieldDeleted
from domain.events import DomainEvent
from domain.ids import custom_field_id_for
from readmodels.custom_fields.tables import TABLE, DefinitionRow
from readmodels.values import micros
from readmodels.versions import Versions


class Definitions(Versions[DefinitionRow]):
    """The current version of each definition."""

    def __init__(self) -> None:
        super().__init__(TABLE, DefinitionRow)


def _options(options: tuple[str, ...]) -> str:
    return msgspec.json.encode(list(options)).decode()


def _row_id(e: CustomFieldDefined | CustomFieldChanged | CustomFieldDeleted) -> str:
    return str(custom_field_id_for(e.entity, e.key))


def _defined(state: Definitions, e: CustomFieldDefined, position: int, key: str) -> None:
    state.begin(
        DefinitionRow(
            id=_row_id(e),
            valid_from=position,
            entity=e.entity,
            key=e.key,
            label=e.label,
            type=e.type,
            options=_options(e.options),
            required=e.required,
            deleted=False,
            updated_at=micros(e.recorded_at),
        )
    )


def _changed(state: Definitions, e: CustomFieldChanged, position: int, key: str) -> None:
    state.change(
        _row_id(e),
        position,
        e.recorded_at,
        label=e.label,
        options=_options(e.options),
        required=e.required,
    )


def _deleted(state: Definitions, e: CustomFieldDeleted, position: int, key: str) -> None:
    state.change(_row_id(e), position, e.recorded_at, deleted=True)


HANDLERS: Mapping[type[DomainEvent], Callable[[Definitions, Any, int, str], None]] = {
    CustomFieldDefined: _defined,
    CustomFieldChanged: _changed,
    CustomFieldDeleted: _deleted,
}
