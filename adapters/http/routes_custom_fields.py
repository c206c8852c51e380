"""Custom field routes: an admin defines, changes and deletes the fields of opportunities,
leads, contacts and accounts (``domain.custom_fields``); everyone reads the definitions,
as they stand now or stood at any position (the custom fields read model).

The values themselves go in ``custom`` on each record's own create and PATCH, and are
answered by its GET (``custom_shown`` here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from adapters.bootstrap import Services
from adapters.http.answers import ReadAnswer
from adapters.http.bodies_custom_fields import CustomFieldBody, CustomFieldPatch
from adapters.http.commanding import CommandHeaders, command_headers, run
from adapters.http.paging import CURSOR, LIMIT, envelope, make_key_cursor, read_key_cursor
from adapters.http.parameters import WAIT_FOR, AsOf
from adapters.http.patterns import CUSTOM_KEY
from adapters.http.reading import reads
from commands.custom_fields import DeleteCustomField
from domain.custom_fields import CustomFields, Entity
from domain.custom_values import CustomValue
from domain.ids import custom_fields_id_for
from readmodels.custom_fields.queries import definitions_at
from readmodels.deals.baselines import as_of_view

router = APIRouter(tags=["custom fields"])
Headers = Depends(command_headers)
ENTITY: Any = Query(None, description="Only this entity's fields")
Key = Annotated[str, Path(pattern=CUSTOM_KEY, max_length=40, description="The field's key")]
LIST = "custom-fields"


def answered(value: CustomValue) -> Any:
    """A canonical value as answers show it (a multiselect's options as a list)."""
    return list(value) if isinstance(value, tuple) else value


def custom_shown(
    services: Services, entity: Entity, values: Mapping[str, CustomValue]
) -> dict[str, Any]:
    """A record's values whose field ``entity`` has now (the store's definitions, as the
    record itself was read), by key; a deleted field's value stays in history only."""
    state = services.store.load(custom_fields_id_for(entity))
    defined = {f.key for f in state.fields} if isinstance(state, CustomFields) else set()
    return {key: answered(values[key]) for key in sorted(values) if key in defined}


@router.post("/custom-fields", status_code=201)
def define_custom_field(
    request: Request, body: CustomFieldBody, h: CommandHeaders = Headers
) -> JSONResponse:
    """Define a field (an admin's setting); its key names it for good."""
    return run(request, h, body.to_command())


@router.get("/custom-fields", dependencies=[reads("the custom fields")])
def list_custom_fields(
    request: Request,
    entity: Entity | None = ENTITY,
    as_of: AsOf = None,
    wait_for: int | None = WAIT_FOR,
    limit: int = LIMIT,
    cursor: str | None = CURSOR,
) -> ReadAnswer:
    """Every field defined (now, or ``as_of``), by entity and key."""
    services: Services = request.app.state.services
    services.queries.wait_for(wait_for)
    point = services.queries.resolve(as_of)
    position = None if as_of is None else point.position
    route = f"{LIST}:{entity or ''}"
    after = read_key_cursor(route, cursor, 2)
    found = definitions_at(services.views, position, entity)
    # Small (an admin's settings): paged in memory, by (entity, key) as the query orders.
    items = [
        (entity_, d)
        for entity_, d in found
        if after is None or (entity_, d.key) > (str(after[0]), str(after[1]))
    ]
    page = items[:limit]
    next_cursor = (
        make_key_cursor(route, [page[-1][0], page[-1][1].key]) if len(items) > limit else None
    )
    recorded = point.instant or services.queries.recorded_instant(point.position)
    return envelope(
        [{"entity": e, **msgspec.to_builtins(d)} for e, d in page],
        next_cursor,
        as_of_view(point.position, recorded),
    )


@router.patch("/custom-fields/{entity}/{key}")
def change_custom_field(
    request: Request, entity: Entity, key: Key, body: CustomFieldPatch, h: CommandHeaders = Headers
) -> JSONResponse:
    """Change a field's label, options or required flag; values already set stay."""
    command = body.to_command(entity, key)
    return run(request, h, command, target=custom_fields_id_for(entity))


@router.delete("/custom-fields/{entity}/{key}")
def delete_custom_field(
    request: Request, entity: Entity, key: Key, h: CommandHeaders = Headers
) -> JSONResponse:
    """Delete a field: answers no longer show its values (history keeps them, and answers
    as of before the deletion show them), and its key is never used again."""
    command = DeleteCustomField(entity=entity, key=key)
    return run(request, h, command, target=custom_fields_id_for(entity))
