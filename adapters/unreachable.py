"""The error a process reports when its database does not answer (kept light for the CLI)."""

from __future__ import annotations


class StoreUnreachable(Exception):
    """The PostgreSQL server did not answer within ``CRMLEDGER_PG_CONNECT_TIMEOUT_SECONDS``."""
