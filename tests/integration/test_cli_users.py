"""``crmledger users``, as an operator runs it: the first admin on a fresh home, tokens
shown once and kept only as a digest, revocation, the list."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from tests.processes import assert_one_line_error, crmledger, log_position, serving


def store_bytes(home: Path) -> bytes:
    """Every byte of every file of the embedded store (database, journal, read models)."""
    return b"".join(path.read_bytes() for path in sorted(home.rglob("*")) if path.is_file())


def test_the_first_admin_is_made_on_a_fresh_home_and_their_token_works(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # Given a home with no store at all
    assert not home.exists()
    # When the first admin is added and given a token
    added = crmledger(
        home, "users", "add", "root", "--role", "admin", "--name", "Ro Ot", "--format", "json"
    )
    assert added.code == 0, added.err
    made = crmledger(home, "users", "token", "root", "--expires-in-days", "7")
    assert made.code == 0, made.err
    # Then the user is printed (as JSON, asked for), and the token alone on one line
    user = json.loads(added.out)
    assert (user["login"], user["name"], user["role"], user["active"]) == (
        "root",
        "Ro Ot",
        "admin",
        True,
    )
    token = made.out.strip()
    assert made.out.count("\n") == 1 and token.startswith("crm_")
    # and the store holds its digest, never the token itself
    data = store_bytes(home)
    assert token.encode() not in data
    secret = token[len("crm_") + 32 + 1 :]  # what follows the user id (may hold "_")
    assert len(secret) == 43 and secret.encode() not in data
    assert hashlib.sha256(token.encode()).hexdigest().encode() in data
    # And the token works against a server on that store
    with serving(home) as served:
        served_as_root = dataclasses.replace(served, token=token)
        assert served_as_root.ok("GET", "/me")["login"] == "root"


def test_revoked_tokens_stop_working_and_the_list_shows_every_user(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert crmledger(home, "users", "add", "maria", "--role", "manager").code == 0
    assert crmledger(home, "users", "add", "alice", "--role", "rep", "--manager", "maria").code == 0
    token = crmledger(home, "users", "token", "alice").out.strip()
    with serving(home) as served:
        as_alice = dataclasses.replace(served, token=token)
        assert as_alice.call("GET", "/me")[0] == 200
        # When alice's tokens are revoked from the command line
        revoked = crmledger(home, "users", "revoke-tokens", "alice")
        assert revoked.code == 0, revoked.err
        # Then her next request is refused
        status, answer = as_alice.call("GET", "/me")
        assert (status, answer["error"]) == (401, "unauthenticated")
    listed = crmledger(home, "users", "list", "--format", "json")
    assert listed.code == 0, listed.err
    assert [(u["login"], u["role"], u["manager"]) for u in json.loads(listed.out)] == [
        ("admin", "admin", None),  # the one `serving` made to call the server with
        ("alice", "rep", "maria"),
        ("maria", "manager", None),
    ]


def test_a_refused_user_is_one_sentence_and_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert crmledger(home, "users", "add", "alice", "--role", "rep").code == 0
    before = log_position(home)
    for args, sentence in (
        (("add", "alice", "--role", "rep"), "there is already a user 'alice'"),
        (("add", "bob", "--role", "rep", "--manager", "nobody"), "there is no user 'nobody'."),
        (("add", "Bob", "--role", "rep"), "a login is 1 to 100 lower-case letters"),
        (("add", "pat", "--role", "partner"), "a partner user needs the partner account"),
        (("token", "nobody"), "there is no user 'nobody'."),
        (("token", "alice", "--expires-in-days", "400"), "a token lasts 1 to 366 days"),
    ):
        line = assert_one_line_error(crmledger(home, "users", *args), starts="crmledger users: ")
        assert sentence in line, line
    assert log_position(home) == before


def test_the_demo_makes_an_organisation_and_tokens_for_it_leave_it_a_demo(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    # Given the demo
    assert crmledger(home, "demo").code == 0
    # Then it made an admin, two managers with three reps each, an analyst, an auditor and
    # a partner user
    users = {u["login"]: u for u in crmledger(home, "users", "list", "--format", "json").json()}
    roles = sorted(u["role"] for u in users.values())
    assert roles == sorted(
        ["admin", "analyst", "auditor", "partner", *["manager"] * 2, *["rep"] * 6]
    )
    teams = {
        manager: sorted(u["login"] for u in users.values() if u["manager"] == manager)
        for manager in ("maria", "tom")
    }
    assert teams == {"maria": ["alice", "bob", "carol"], "tom": ["dave", "erin", "frank"]}
    assert users["pat"]["partner_id"] is not None
    # When a token is made for a demo user (the README's first step) and revoked again
    assert crmledger(home, "users", "token", "admin").code == 0
    assert crmledger(home, "users", "revoke-tokens", "admin").code == 0
    # Then the store is still only the demo's: a rerun replaces it
    rerun = crmledger(home, "demo")
    assert rerun.code == 0, rerun.err
    assert "Removed the previous demo store" in rerun.out


def test_the_charts_show_a_users_scope_with_as(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert crmledger(home, "demo").code == 0

    def open_deals(*extra: str) -> int:
        ran = crmledger(home, "pipeline", "--format", "json", *extra)
        assert ran.code == 0, ran.err
        return sum(row["count"] for row in json.loads(ran.out)["stages"])

    def forecast_owners(*extra: str) -> set[str]:
        ran = crmledger(home, "forecast", "--format", "json", *extra)
        assert ran.code == 0, ran.err
        return {row["owner"] for row in json.loads(ran.out)["rows"]}

    # The operator sees every deal; a manager their team's; a rep their own; and the
    # two managers' scopes add up to the whole (every demo deal has a rep for owner)
    everyone = open_deals()
    maria, tom = open_deals("--as", "maria"), open_deals("--as", "tom")
    assert 0 < open_deals("--as", "alice") < maria < everyone
    assert maria + tom == everyone
    assert forecast_owners("--as", "alice") <= {"alice"}
    assert forecast_owners("--as", "maria") <= {"alice", "bob", "carol"}
    # An unknown login is one sentence
    line = assert_one_line_error(crmledger(home, "pipeline", "--as", "nobody"))
    assert "there is no user 'nobody'" in line
