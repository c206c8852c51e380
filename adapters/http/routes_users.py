"""Users and their API tokens: ``/me``, ``/users``, ``/users/{login}``, its tokens.

A token is shown once, in the answer that makes it; the store keeps its SHA-256 only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from adapters.bootstrap import Services
from adapters.http.answers import ReadAnswer
from adapters.http.authentication import Authenticated, actor_of
from adapters.http.bodies import Body, example
from adapters.http.commanding import CommandHeaders, command_headers, run
from adapters.http.contract import LOCATION_HEADER, location_of
from adapters.http.fields import Login, ShortText, TokenDays, Uuid
from adapters.http.parameters import WAIT_FOR, AsOf
from adapters.http.reading import reads
from adapters.identity import user_view
from adapters.tokens import new_token
from commands.users import AddUser, ChangeUser, DeactivateUser, IssueApiToken, RevokeApiTokens
from domain.errors import NotFound
from domain.ids import user_id_for
from domain.user import DEFAULT_TOKEN_DAYS, LOGIN, Role, User
from readmodels.users import queries as user_rows

router = APIRouter(tags=["users"])
Headers = Depends(command_headers)


class UserBody(Body):
    model_config = example({"login": "gina", "name": "Gina Garcia", "role": "rep"})
    login: Login = Field(description="the user's login")
    name: ShortText | None = Field(None, description="default: the login")
    role: Role
    manager: Login | None = Field(None, description="the login they answer to")
    partner_id: Uuid | None = Field(None, description="a partner user's partner account")


class UserPatch(Body):
    """Send only what changes; ``manager: null`` leaves the user with no manager."""

    model_config = example({"role": "manager", "manager": None})
    name: ShortText | None = None
    role: Role | None = None
    manager: Login | None = None
    partner_id: Uuid | None = None


class TokenBody(Body):
    model_config = example({"expires_in_days": 30})
    expires_in_days: TokenDays = DEFAULT_TOKEN_DAYS


def _user(request: Request, login: str) -> User:
    services: Services = request.app.state.services
    state = services.store.load(user_id_for(login)) if LOGIN.fullmatch(login) else None
    if not isinstance(state, User):
        raise NotFound(f"there is no user {login!r}.")
    return state


@router.get("/me", dependencies=[reads("who they are")])
def me(user: User = Authenticated) -> ReadAnswer:
    """The user the request's token names."""
    return user_view(user)


@router.post("/users", status_code=201)
def add_user(request: Request, body: UserBody, h: CommandHeaders = Headers) -> JSONResponse:
    command = AddUser(
        login=body.login,
        role=body.role,
        name=body.name,
        manager=body.manager,
        partner_id=body.partner_id,
    )
    return run(request, h, command)


@router.get("/users", dependencies=[reads("users")])
def list_users(request: Request, as_of: AsOf = None, wait_for: int | None = WAIT_FOR) -> ReadAnswer:
    """Every user (a read model), by login; ``as_of``: the organisation as it stood then."""
    services: Services = request.app.state.services
    services.queries.wait_for(wait_for)
    position = None if as_of is None else services.queries.resolve(as_of).position
    return [user_rows.user_view(row) for row in user_rows.users(services.views, position)]


@router.get("/users/{login}", dependencies=[reads("a user")])
def get_user(request: Request, login: str) -> ReadAnswer:
    return user_view(_user(request, login))


@router.patch("/users/{login}")
def change_user(
    request: Request, login: str, body: UserPatch, h: CommandHeaders = Headers
) -> JSONResponse:
    given = body.model_fields_set
    command = ChangeUser(
        login=login,
        name=body.name,
        role=body.role,
        manager=body.manager,
        clear_manager="manager" in given and body.manager is None,
        partner_id=body.partner_id,
    )
    return run(request, h, command, target=user_id_for(login))


@router.post("/users/{login}/deactivate")
def deactivate_user(request: Request, login: str, h: CommandHeaders = Headers) -> JSONResponse:
    return run(request, h, DeactivateUser(login=login), target=user_id_for(login))


class TokenAnswer(BaseModel):
    token: str = Field(description="The bearer token: shown in this answer only")
    expires_at: str = Field(description="When it stops working (an instant with offset)")


@router.post(
    "/users/{login}/tokens",
    status_code=201,
    responses={201: {"model": TokenAnswer, "description": "Issued", "headers": LOCATION_HEADER}},
)
def issue_token(
    request: Request, response: Response, login: str, body: TokenBody | None = None
) -> dict[str, Any]:
    """A new API token: shown in this answer only. Not idempotent by key: a repeat would
    have to show the token again, and the store does not have it."""
    services: Services = request.app.state.services
    token, digest = new_token(user_id_for(login))
    days = (body or TokenBody()).expires_in_days
    outcome = services.bus.execute(
        IssueApiToken(login=login, sha256=digest, days=days), actor=actor_of(request)
    )
    response.headers["Location"] = location_of(request, {})
    return {"token": token, "expires_at": outcome.extra["expires_at"]}


@router.delete("/users/{login}/tokens")
def revoke_tokens(request: Request, login: str, h: CommandHeaders = Headers) -> JSONResponse:
    return run(request, h, RevokeApiTokens(login=login), target=user_id_for(login))
