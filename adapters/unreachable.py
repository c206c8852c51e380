"""The errors a process stops with: its database does not answer, or its settings are wrong
(kept light: the CLI imports them before it knows what it will run)."""

from __future__ import annotations


class StoreUnreachable(Exception):
    """The PostgreSQL server did not answer within ``CRMLEDGER_PG_CONNECT_TIMEOUT_SECONDS``."""


class SettingsProblem(Exception):
    """A mistake in the settings (a database or role that does not exist, a wrong password):
    no retry mends it, so a worker stops with this sentence and exit code 2."""
