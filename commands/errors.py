"""Refusals the command layer adds to the domain's (409, see ``commands.refusals``)."""

from __future__ import annotations

from domain.errors import RuleViolated


class VersionConflict(RuleViolated):
    code = "version_conflict"


class IdempotencyKeyReused(RuleViolated):
    code = "idempotency_key_reused"


class Contention(RuleViolated):
    code = "contention"
