"""The token check a request makes: it reads the user the token names from the log every
time, so a revocation or a deactivation — made by any process — refuses the very next
request; on PostgreSQL that read is one round trip (the pool's pre-ping skipped), and a
pooled connection found dead on the way is replaced, the check answered all the same."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.bootstrap import Services, bootstrap
from adapters.identity import Unauthenticated
from adapters.settings import Settings
from commands.users import DeactivateUser, RevokeApiTokens
from tests.conftest import POSTGRES_URL
from tests.identity import user_token


@pytest.fixture
def other_process(settings: Settings) -> Iterator[Services]:
    """A second application on the same store, as another process (a CLI run, another
    server) would open it: the first's cached user states know nothing of its writes."""
    running = bootstrap(settings)
    yield running
    running.close()


def test_a_revocation_or_deactivation_elsewhere_refuses_the_next_request(
    services: Services, other_process: Services
) -> None:
    # Given alice's and bob's tokens, each accepted (their users now cached)
    alice, bob = user_token(services, "alice", "rep"), user_token(services, "bob", "rep")
    assert services.identity.authenticate(alice).login == "alice"
    assert services.identity.authenticate(bob).login == "bob"
    # When another process revokes alice's tokens and deactivates bob
    other_process.bus.execute(RevokeApiTokens(login="alice"))
    other_process.bus.execute(DeactivateUser(login="bob"))
    # Then the next check of either token is refused
    for token in (alice, bob):
        with pytest.raises(Unauthenticated):
            services.identity.authenticate(token)


class Statements:
    """Every statement this process sends to PostgreSQL, in order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sent: list[str] = []
        execute = psycopg.Cursor.execute

        def counted(cursor: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
            self.sent.append(str(query))
            return execute(cursor, query, *args, **kwargs)

        monkeypatch.setattr(psycopg.Cursor, "execute", counted)


@pytest.mark.parametrize("backend", ["postgres"])
def test_on_postgresql_a_token_check_is_one_round_trip(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a token, checked once (its user cached, the statement prepared)
    token = user_token(services, "alice", "rep")
    services.identity.authenticate(token)
    # When it is checked again
    statements = Statements(monkeypatch)
    user = services.identity.authenticate(token)
    # Then one statement went to the server: the read of alice's last version, no ping
    assert user.login == "alice"
    assert len(statements.sent) == 1, statements.sent
    assert "max(originator_version)" in statements.sent[0]


def test_on_postgresql_a_token_check_on_dead_pooled_connections_still_answers(
    tmp_path: Path, postgres_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an application whose pooled connections carry a name of their own
    name = f"crmledger-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", name)
    services = bootstrap(Settings(database_url=POSTGRES_URL, database_schema=postgres_schema))
    try:
        token = user_token(services, "alice", "rep")
        services.identity.authenticate(token)
        # When the server ends every one of them (as a restart would)
        monkeypatch.setenv("PGAPPNAME", "crmledger-test-killer")
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            ended = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (name,),
            ).fetchone()
        assert ended is not None and ended[0] >= 1
        # Then the next check (its unpinged connection dead) is read again and answered
        statements = Statements(monkeypatch)
        assert services.identity.authenticate(token).login == "alice"
        # (the read went out twice: on the dead connection, unpinged, then on a live one)
        reads = [s for s in statements.sent if "max(originator_version)" in s]
        assert len(reads) >= 2, statements.sent
        # and a revocation still refuses the next check
        services.bus.execute(RevokeApiTokens(login="alice"))
        with pytest.raises(Unauthenticated):
            services.identity.authenticate(token)
    finally:
        services.close()
