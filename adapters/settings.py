"""Settings, read from ``CRMLEDGER_*`` environment variables (see README, "Settings")."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from readmodels.version import VERSION as READ_MODEL_VERSION


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRMLEDGER_", extra="ignore")

    home: Path = Field(
        default=Path(".crmledger"),
        description="Directory of the embedded (SQLite) store.",
    )
    database_url: str | None = Field(
        default=None,
        description="postgresql://user:password@host:port/dbname to use PostgreSQL instead.",
    )
    database_schema: str = Field(default="public", description="PostgreSQL schema of the tables.")
    reporting_currency: str = Field(default="EUR", description="Currency read models report in.")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="The largest request body the API reads; a larger one answers 413.",
    )
    aggregate_cache_size: int = Field(default=10_000, ge=0)
    pg_pool_size: int = Field(default=5, ge=1)
    pg_max_overflow: int = Field(default=10, ge=0)
    pg_lock_timeout_seconds: int = Field(default=5, ge=0)
    pg_connect_timeout_seconds: int = Field(
        default=10, ge=1, le=600, description="How long to wait for PostgreSQL to answer a connect."
    )
    pg_idle_in_transaction_timeout_seconds: int = Field(default=5, ge=0)
    command_retries: int = Field(default=5, ge=1, description="Attempts on a concurrent write.")
    checkpoint_interval: int = Field(
        default=2500, ge=100, description="Log positions between read-model checkpoints."
    )
    checkpoint_full_every: int = Field(
        default=8,
        ge=1,
        description="Every n-th checkpoint holds every deal; those between hold what changed.",
    )
    projector_poll_seconds: float = Field(default=0.2, gt=0, le=10)
    renewal_notice_days: int = Field(
        default=30, ge=0, le=3650, description="Days before its end a contract is due for renewal."
    )
    automation_max_depth: int = Field(
        default=5,
        ge=1,
        le=50,
        description="How deep a chain of automations goes: an event automations wrote this "
        "many levels deep triggers none (each records that the chain stopped).",
    )
    run_projector: Literal["auto", "yes", "no"] = Field(
        default="auto",
        description="Run the read-model projector and the contracts process manager inside "
        "`serve` (auto: on the embedded store).",
    )
    phone_region: str = Field(
        default="DE",
        min_length=2,
        max_length=2,
        description="Region (ISO 3166 alpha-2) of phone numbers written without a country "
        "code, for duplicate detection of leads.",
    )
    kafka_bootstrap_servers: str | None = Field(
        default=None,
        description="host:port[,host:port…] of the Kafka brokers the relay publishes to.",
    )
    kafka_events_topic: str = Field(default="crmledger.events", min_length=1)
    kafka_partitions: int = Field(
        default=6,
        ge=1,
        le=1000,
        description="Partitions of the events topic when the relay creates it.",
    )
    kafka_projector_group: str = Field(
        default="crmledger-readmodels",
        min_length=1,
        description="Consumer group of the Kafka-side projectors (worker --role kafka-projector).",
    )
    kafka_projection_schema: str | None = Field(
        default=None,
        min_length=1,
        description="PostgreSQL schema of the tables the Kafka-side projectors write "
        "(default: the database schema with `_kafka` appended).",
    )
    kafka_max_poll_interval_seconds: int = Field(
        default=300,
        ge=5,
        le=3600,
        description="Longest a Kafka consumer (commands, Kafka-side projector) may take "
        "between polls before the group gives its partitions to another member.",
    )
    retry_max_seconds: float = Field(
        default=30.0,
        ge=0.5,
        le=600,
        description="Longest wait between two attempts of a worker (or the projector in "
        "`serve`) waiting for PostgreSQL or Kafka to come back (capped exponential backoff "
        "from 0.5 s).",
    )
    relay_batch: int = Field(
        default=500, ge=1, le=10_000, description="Events per acknowledged relay batch."
    )
    # Webhooks (``adapters/webhooks``): one block, the sender's settings.
    webhook_allow_private: Literal["yes", "no"] = Field(
        default="no",
        description="`yes` lets webhooks send to private, loopback and link-local addresses "
        "(tests, local receivers); otherwise such URLs are refused.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="How long one webhook delivery attempt may take."
    )
    webhook_backoff_seconds: float = Field(
        default=1.0,
        gt=0,
        le=3600,
        description="Wait after a delivery's first failed attempt; it doubles per failure.",
    )
    webhook_backoff_max_seconds: float = Field(
        default=3600.0, gt=0, le=604_800, description="Longest wait between two attempts."
    )
    webhook_disable_after_failures: int = Field(
        default=20,
        ge=1,
        le=100_000,
        description="Failed attempts in a row after which a webhook is disabled (its owner "
        "notified).",
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="Accept JWTs of this OIDC issuer (its `iss`) as bearer tokens, besides "
        "API tokens; with CRMLEDGER_OIDC_AUDIENCE and CRMLEDGER_OIDC_JWKS.",
    )
    oidc_audience: str | None = Field(
        default=None, description="The `aud` a JWT must name to be accepted."
    )
    oidc_jwks: str | None = Field(
        default=None,
        description="The issuer's signing keys: a JWKS file, or an https:// URL to fetch it.",
    )
    oidc_login_claim: str = Field(
        default="sub", min_length=1, description="The JWT claim that holds the user's login."
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"

    @field_validator("phone_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        import phonenumbers  # noqa: PLC0415 - only settings that name a region need it

        value = value.upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"CRMLEDGER_PHONE_REGION {value!r} is not a known region")
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("CRMLEDGER_DATABASE_URL must be a postgresql:// URL")
        return value or None

    @model_validator(mode="after")
    def _oidc_whole(self) -> Settings:
        given = [self.oidc_issuer, self.oidc_audience, self.oidc_jwks]
        if any(given) and not all(given):
            raise ValueError(
                "CRMLEDGER_OIDC_ISSUER, CRMLEDGER_OIDC_AUDIENCE and CRMLEDGER_OIDC_JWKS go "
                "together: set all three or none"
            )
        return self

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    @property
    def kafka_tables_schema(self) -> str:
        return self.kafka_projection_schema or f"{self.database_schema}_kafka"

    @property
    def event_store_path(self) -> Path:
        return self.home / "events.sqlite"

    @property
    def read_model_path(self) -> Path:
        return self.home / f"readmodels_{READ_MODEL_VERSION}.sqlite"

    @property
    def serve_runs_projector(self) -> bool:
        return self.run_projector == "yes" or (
            self.run_projector == "auto" and not self.uses_postgres
        )
