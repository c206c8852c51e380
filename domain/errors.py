"""Domain exceptions. Each carries a sentence a user can act on.

``commands.refusals`` turns them into what every transport answers: ``NotFound`` →
404, ``InvalidInput`` → 422, ``RuleViolated`` → 409.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal the domain makes."""

    code = "domain_error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    code = "not_found"


class InvalidInput(DomainError):
    """The command is malformed for the domain (unknown currency, negative quantity…)."""

    code = "invalid_input"


class RuleViolated(DomainError):
    """The command is well-formed but a business rule refuses it."""

    code = "rule_violated"


class Locked(RuleViolated):
    code = "locked"


class AlreadyExists(RuleViolated):
    """The record to create exists already: ``existing_id`` names it, so a caller can
    use it instead."""

    code = "already_exists"

    def __init__(self, detail: str, existing_id: object) -> None:
        super().__init__(detail)
        self.existing_id = str(existing_id)
