"""Full-text search of the lists, on SQLite (FTS5) and on PostgreSQL (GIN over
``to_tsvector('simple', …)``): ``q`` finds records by the words of their titles and names
— case-insensitive, a word's beginning too, every word asked for — as they stood at a
position, and the query plan reads the full-text index, not every row."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg import sql

from adapters.bootstrap import Services
from commands.opportunities import CreateOpportunity, EditOpportunity
from domain.money import Money
from readmodels.lists import page, sort_of, words_of
from readmodels.opportunities.queries import OPPORTUNITIES
from readmodels.opportunities.tables import TABLE
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.users("alice")
TITLES = ("ACME Licences 2027", "Globex renewal", "Acmecorp support", "Initech rollout")


def _deal(services: Services, title: str) -> UUID:
    deal = uuid4()
    services.bus.execute(
        CreateOpportunity(
            opportunity_id=deal,
            title=title,
            owner="alice",
            expected_close=date(2027, 6, 30),
            account_name="ACME",
            amount=Money(Decimal(100), "EUR"),
        )
    )
    return deal


def _project(services: Services) -> int:
    projector = services.projector()
    projector.start()
    projector.catch_up()
    return services.queries.tracked()


def _found(services: Services, q: str, position: int | None = None) -> list[str]:
    where = [services.views.match(TABLE, words_of(q))]
    found = page(
        services.views,
        OPPORTUNITIES,
        position,
        sort=sort_of(OPPORTUNITIES, "title"),
        limit=50,
        where=where,
    )
    return [row.title for row in found.rows]


def test_q_finds_words_and_their_beginnings_in_any_case(services: Services) -> None:
    ids = {title: _deal(services, title) for title in TITLES}
    before = _project(services)
    services.bus.execute(EditOpportunity(opportunity_id=ids["Globex renewal"], title="Hooli"))
    _project(services)

    assert _found(services, "acme") == ["ACME Licences 2027", "Acmecorp support"]
    assert _found(services, "ACMECORP") == ["Acmecorp support"]
    assert _found(services, "acme LIC") == ["ACME Licences 2027"]
    assert _found(services, "licen 2027") == ["ACME Licences 2027"]
    assert _found(services, "acme rollout") == []
    assert _found(services, "renewal") == []
    assert _found(services, "hooli") == ["Hooli"]
    # as the records stood at an earlier position
    assert _found(services, "renewal", before) == ["Globex renewal"]
    assert _found(services, "hooli", before) == []


def test_the_search_reads_the_full_text_index(services: Services) -> None:
    for title in TITLES:
        _deal(services, title)
    _project(services)
    clause, params = services.views.match(TABLE, words_of("acme"))
    statement = f"SELECT id FROM {TABLE.name} WHERE valid_to IS NULL AND {clause}"
    if services.settings.uses_postgres:
        plan = _postgres_plan(services, statement, params)
        assert f"{TABLE.name}_search_idx" in plan, plan
    else:
        rows = services.views.select(f"EXPLAIN QUERY PLAN {statement}", params)
        plan = "\n".join(str(r[-1]) for r in rows)
        assert "VIRTUAL TABLE INDEX" in plan and f"{TABLE.name}_search" in plan, plan
        # the rows are fetched by the rowids the index found, never scanned
        assert f"SEARCH {TABLE.name} USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
        assert not any(line.startswith(f"SCAN {TABLE.name} ") for line in plan.split("\n"))


def _postgres_plan(services: Services, statement: str, params: list[Any]) -> str:
    schema = services.settings.database_schema
    with psycopg.connect(POSTGRES_URL) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        # A handful of rows is cheaper to scan: ask whether the index can answer at all.
        conn.execute("SET enable_seqscan = off")
        found = conn.execute(f"EXPLAIN {statement.replace('?', '%s')}", params).fetchall()
    return "\n".join(str(r[0]) for r in found)
