"""What this process waits for, as the operations routes say it (``/health``, the status)."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi.responses import JSONResponse

from adapters.bootstrap import Services
from adapters.postgres_guard import guards_down


def waiting_for(services: Services) -> list[dict[str, Any]]:
    """Each server this process knows to be away, and each loop of it that waits."""
    servers = [
        {
            "role": "api",
            "waiting_for": guard.dependency,
            "error": guard.last_error,
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(guard.down_since or 0)),
            "retry_in_seconds": guard.retry_after,
        }
        for guard in guards_down()
    ]
    return servers + services.health.snapshot()


def waiting_answer(answer: JSONResponse, services: Services) -> JSONResponse:
    """A 503 ``unavailable`` answer with what this process waits for added to its body."""
    body = json.loads(bytes(answer.body))
    body["waiting"] = waiting_for(services)
    response = JSONResponse(status_code=answer.status_code, content=body)
    response.headers["Retry-After"] = answer.headers["Retry-After"]
    return response
