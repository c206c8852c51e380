"""``crmledger users``: add users, make and revoke their API tokens, list them.

The CLI works on the store directly, as the local operator: on a fresh
``CRMLEDGER_HOME`` (or an empty PostgreSQL schema) ``users add`` creates the store, which
is how the first admin is made before ``serve`` has ever run.
"""

from __future__ import annotations

import argparse
import sys
from uuid import UUID

from adapters.bootstrap import bootstrap
from adapters.cli_output import add_format_option, emit, listing, record
from adapters.cli_readmodels import caught_up_services
from adapters.identity import user_view
from adapters.settings import Settings
from adapters.tokens import new_token
from commands.users import AddUser, IssueApiToken, RevokeApiTokens
from domain.errors import InvalidInput
from domain.ids import user_id_for
from domain.user import DEFAULT_TOKEN_DAYS, ROLES, User
from readmodels.users import queries as user_rows

USER_COLUMNS = ("login", "name", "role", "manager", "partner_id", "active", "id")
USER_RECORD = ("id", "login", "name", "role", "manager", "partner_id", "active")


def _partner(text: str | None) -> UUID | None:
    if text is None:
        return None
    try:
        return UUID(text)
    except ValueError:
        raise InvalidInput(
            f"--partner is the partner account's id (a UUID), not {text!r}."
        ) from None


def add_command(settings: Settings, args: argparse.Namespace) -> int:
    services = bootstrap(settings)
    try:
        command = AddUser(
            login=args.login,
            role=args.role,
            name=args.name,
            manager=args.manager,
            partner_id=_partner(args.partner),
        )
        outcome = services.bus.execute(command)
        user = services.store.load(outcome.id)
    finally:
        services.close()
    assert isinstance(user, User)
    emit(record(user_view(user)), args.format)
    return 0


def token_command(settings: Settings, args: argparse.Namespace) -> int:
    services = bootstrap(settings)
    try:
        token, digest = new_token(user_id_for(args.login))
        services.bus.execute(
            IssueApiToken(login=args.login, sha256=digest, days=args.expires_in_days)
        )
    finally:
        services.close()
    # Only the token, on one line: `TOKEN=$(crmledger users token alice)`.
    print(token)
    return 0


def revoke_command(settings: Settings, args: argparse.Namespace) -> int:
    services = bootstrap(settings)
    try:
        services.bus.execute(RevokeApiTokens(login=args.login))
    finally:
        services.close()
    print(f"every API token of {args.login} is revoked.", file=sys.stderr)
    return 0


def list_command(settings: Settings, args: argparse.Namespace) -> int:
    services = caught_up_services(settings)
    try:
        rows = user_rows.users(services.views)
    finally:
        services.close()
    emit(
        listing([user_rows.user_view(row) for row in rows], USER_COLUMNS, USER_RECORD), args.format
    )
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users_parser = sub.add_parser("users", help="add users, make and revoke their API tokens")
    actions = users_parser.add_subparsers(dest="action", required=True)

    add = actions.add_parser("add", help="add a user (prints it)")
    add.add_argument("login", help="lower-case letters, digits and . _ @ -")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--manager", help="the login of the user they answer to")
    add.add_argument("--partner", help="a partner user's partner account id")
    add.add_argument("--name", help="the user's name (default: the login)")
    add_format_option(add, "one row: the user")
    add.set_defaults(run=add_command)

    token = actions.add_parser("token", help="make an API token (prints only the token)")
    token.add_argument("login")
    token.add_argument(
        "--expires-in-days",
        type=int,
        default=DEFAULT_TOKEN_DAYS,
        help=f"1 to 366 (default {DEFAULT_TOKEN_DAYS})",
    )
    token.set_defaults(run=token_command)

    revoke = actions.add_parser("revoke-tokens", help="revoke every API token of a user")
    revoke.add_argument("login")
    revoke.set_defaults(run=revoke_command)

    every = actions.add_parser("list", help="every user")
    add_format_option(every, "a row per user")
    every.set_defaults(run=list_command)
