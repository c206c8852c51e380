"""Commands on custom fields (an admin's setting): define, change, delete; and the check
every create and change of an opportunity, lead, contact or account makes of the custom
values it is given (``checked_custom``).

The definitions are loaded as an aggregate through the unit of work (never from a read
model, which may lag behind a change); a ``user`` value is checked the same way, against
the user aggregate (``commands.owners``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from commands.bus import Answer, Handlers
from commands.owners import is_active
from commands.unit_of_work import UnitOfWork
from domain import custom_fields as rules
from domain import custom_values as values
from domain.custom_fields import CustomFields, Entity, FieldType
from domain.custom_values import CustomChanges, CustomValue, CustomValues
from domain.ids import custom_fields_id_for

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class DefineCustomField(msgspec.Struct, frozen=True, kw_only=True):
    entity: Entity
    key: str
    label: str
    type: FieldType
    options: tuple[str, ...] = ()
    required: bool = False


class ChangeCustomField(msgspec.Struct, frozen=True, kw_only=True):
    """PATCH: fields left UNSET stay as they are."""

    entity: Entity
    key: str
    label: str | Unset = UNSET
    options: tuple[str, ...] | Unset = UNSET
    required: bool | Unset = UNSET


class DeleteCustomField(msgspec.Struct, frozen=True, kw_only=True):
    entity: Entity
    key: str


def definitions(uow: UnitOfWork, entity: Entity) -> CustomFields | None:
    """The custom fields of ``entity``; None until the first is defined."""
    state = uow.find(custom_fields_id_for(entity))
    assert state is None or isinstance(state, CustomFields)
    return state


def checked_custom(
    uow: UnitOfWork,
    entity: Entity,
    given: Mapping[str, Any] | None,
    current: Mapping[str, CustomValue] | None = None,
) -> CustomChanges:
    """The custom values ``given`` for a record of ``entity``, checked and canonical
    (``domain.custom_fields.check_values``): for a new record (``current`` None) all of
    them, its required fields present; for a change, those that differ (None: cleared)."""
    if current is not None and not given:
        return {}
    return values.check_values(
        definitions(uow, entity),
        entity,
        given or {},
        lambda login: is_active(uow, login),
        current=current,
    )


def new_custom(uow: UnitOfWork, entity: Entity, given: Mapping[str, Any] | None) -> CustomValues:
    """The checked values a new record of ``entity`` starts with."""
    return values.created_values(checked_custom(uow, entity, given))


def _answer(entity: Entity) -> Answer:
    return Answer(id=custom_fields_id_for(entity))


def define_custom_field(uow: UnitOfWork, command: DefineCustomField) -> Answer:
    aggregate_id = custom_fields_id_for(command.entity)
    uow.record(
        aggregate_id,
        rules.define(
            definitions(uow, command.entity),
            command.entity,
            key=command.key,
            label=command.label,
            type=command.type,
            options=command.options,
            required=command.required,
        ),
    )
    extra = {"entity": command.entity, "key": command.key}
    return Answer(id=aggregate_id, created=True, extra=extra)


def change_custom_field(uow: UnitOfWork, command: ChangeCustomField) -> Answer:
    uow.record(
        custom_fields_id_for(command.entity),
        rules.change(
            definitions(uow, command.entity),
            command.entity,
            command.key,
            label=None if isinstance(command.label, Unset) else command.label,
            options=None if isinstance(command.options, Unset) else command.options,
            required=None if isinstance(command.required, Unset) else command.required,
        ),
    )
    return _answer(command.entity)


def delete_custom_field(uow: UnitOfWork, command: DeleteCustomField) -> Answer:
    uow.record(
        custom_fields_id_for(command.entity),
        rules.delete(definitions(uow, command.entity), command.entity, command.key),
    )
    return _answer(command.entity)


HANDLERS: Handlers = {
    DefineCustomField: define_custom_field,
    ChangeCustomField: change_custom_field,
    DeleteCustomField: delete_custom_field,
}
