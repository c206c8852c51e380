"""A read route names the read it is; ``commands.read_rights`` decides who may make it.

``@router.get(path, dependencies=[reads("a lead")])``: after the bearer token named the
caller, the read is refused (403 ``forbidden``) unless their role may make it. Routes
hold no role checks of their own. ``undeclared_reads`` lists the GET routes that name
none, and the app refuses to build while there is one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from commands.authorization import READS, authorize_read


class _Read:
    """The dependency that checks one read's right (its ``read`` says which)."""

    def __init__(self, read: str) -> None:
        self.read = read

    def __call__(self, request: Request) -> None:
        authorize_read(request.state.principal, self.read)


def reads(read: str) -> Any:
    """The dependency a route declares for the read it is; an unknown read fails at once."""
    if read not in READS:
        raise TypeError(f"the read {read!r} has no right in commands.read_rights")
    return Depends(_Read(read))


def declared_read(route: APIRoute) -> str | None:
    """The read ``route`` declares, if any."""
    for dependency in route.dependencies:
        if isinstance(dependency.dependency, _Read):
            return dependency.dependency.read
    return None


def undeclared_reads(routes: Iterable[BaseRoute]) -> list[str]:
    """Every GET route of ``routes`` that declares no read."""
    return [
        f"GET {route.path}"
        for route in routes
        if isinstance(route, APIRoute)
        and "GET" in (route.methods or ())
        and declared_read(route) is None
    ]
