"""The list envelope: ``{"items": [...], "next_cursor": "<opaque>" | null, "as_of": {...}}``,
with ``limit`` (default 50, at most 500) and ``cursor`` (keyset: where the last page
ended, never an offset, so rows added meanwhile neither repeat nor go missing).

A cursor is the route's name and its key, base64url-encoded: a client passes it back as
it is; one made up, damaged or made by another route answers 404 (no such page).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

import msgspec
from fastapi import Query

from domain.errors import NotFound

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
LIMIT = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="at most this many items")
CURSOR = Query(
    None,
    pattern=r"^[A-Za-z0-9_-]{1,2000}$",
    description="the next_cursor of the page before (none: the first page); one this list "
    "never gave answers 404",
)


def envelope(items: list[Any], next_cursor: str | None, as_of: dict[str, Any]) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor, "as_of": as_of}


def make_cursor(route: str, *key: int) -> str:
    """An opaque cursor of ``route`` for the keyset position ``key``."""
    text = ":".join([route, *map(str, key)])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def read_cursor(route: str, cursor: str | None, size: int) -> tuple[int, ...] | None:
    """The ``size`` integers of a cursor ``make_cursor(route, …)`` made; None for none."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        name, *parts = text.split(":")
        key = tuple(int(part) for part in parts)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        key, name = (), ""
    if name != route or len(key) != size or any(part < 0 for part in key):
        # A page like any other resource: one this list never gave does not exist.
        raise NotFound(f"cursor {cursor!r} is not a next_cursor this list gave.")
    return key


# A keyset key's parts: what a sort column holds, as text or a whole number (decimals,
# dates and instants as their canonical text or integer), or None for a null.
KeyPart = str | int | None


def make_key_cursor(route: str, key: Sequence[KeyPart]) -> str:
    """An opaque cursor of ``route`` (name it with the list's sort, so a cursor of one
    order is refused by another) for the keyset position ``key``, whatever its parts."""
    text = msgspec.json.encode([route, *key])
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def read_key_cursor(route: str, cursor: str | None, size: int) -> tuple[KeyPart, ...] | None:
    """The ``size`` parts of a cursor ``make_key_cursor(route, …)`` made; None for none."""
    if cursor is None:
        return None
    try:
        decoded = msgspec.json.decode(
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)),
            type=list[KeyPart],
        )
    except (binascii.Error, ValueError, msgspec.DecodeError):
        decoded = []
    if len(decoded) != size + 1 or decoded[0] != route:
        raise NotFound(f"cursor {cursor!r} is not a next_cursor this list gave.")
    return tuple(decoded[1:])
