"""API tokens: 256 random bits from ``secrets``, shown once, kept only as a SHA-256.

A token reads ``crm_<user id: 32 hex digits>_<secret: 43 URL-safe characters>``. The
user id says whose tokens to compare it with (so a request loads one user, never a
table of tokens); the secret makes it unguessable. A digest of 256 random bits needs no
slow hash: there is nothing to guess it back from.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from uuid import UUID

PREFIX = "crm_"
_SHAPE = re.compile(r"crm_([0-9a-f]{32})_([A-Za-z0-9_-]{43})")


def new_token(user_id: UUID) -> tuple[str, str]:
    """A new token for ``user_id`` and its digest (the only part ever stored)."""
    token = f"{PREFIX}{user_id.hex}_{secrets.token_urlsafe(32)}"
    return token, digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_of(token: str) -> UUID | None:
    """The user a well-formed token belongs to; None for anything else."""
    shaped = _SHAPE.fullmatch(token)
    return None if shaped is None else UUID(hex=shaped.group(1))
