"""Every route but ``/health``, the OpenAPI document and the docs pages needs
``Authorization: Bearer <token>``: the user it names is the request's (``request.state.user``).

Missing, unknown, malformed, expired or revoked → ``401 unauthenticated`` with
``WWW-Authenticate: Bearer``. The bearer scheme is declared in the OpenAPI document.
"""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.bootstrap import Services
from adapters.identity import Unauthenticated
from commands.unit_of_work import Actor
from domain.access import Principal
from domain.user import User

BEARER = HTTPBearer(
    auto_error=False,
    description="An API token (`crmledger users token LOGIN`, `POST /users/{login}/tokens`) "
    "or, when an OIDC issuer is configured, a JWT it signed.",
)


Credentials = Depends(BEARER)


def authenticated(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Credentials
) -> User:
    """The user the request's bearer token names (a sync dependency: it reads the store)."""
    if credentials is None:
        raise Unauthenticated("this route needs Authorization: Bearer <token>.")
    services: Services = request.app.state.services
    user = services.identity.authenticate(credentials.credentials)
    request.state.user = user
    request.state.principal = services.identity.principal(user)
    return user


Authenticated = Depends(authenticated)


def actor_of(request: Request) -> Actor:
    """Who runs the commands of this request: its user, and its request id (a command's
    own id is its cause)."""
    principal: Principal = request.state.principal
    return Actor(
        by=principal.login,
        request_id=getattr(request.state, "request_id", None),
        principal=principal,
    )
