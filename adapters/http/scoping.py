"""The scope of a request's user over the records a list or summary answers (the rule is
``domain.access.sees``; ``readmodels.scope`` applies it fast)."""

from __future__ import annotations

from fastapi import Request

from adapters.bootstrap import Services
from readmodels.scope import Scope, scope_of


def scope(request: Request, kind: str, position: int | None) -> Scope | None:
    """What the caller may see of records of ``kind`` at ``position`` (None: now); None
    when they see everything."""
    services: Services = request.app.state.services
    return scope_of(request.state.principal, services.views, kind, position)
