"""compose.yaml stays in step with the code: its services run commands the CLI has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from adapters.cli import parser as build_parser

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_every_crmledger_service_runs_a_command_the_cli_accepts() -> None:
    services = _compose()["services"]
    parser = build_parser()
    commands = {
        name: spec["command"]
        for name, spec in services.items()
        if spec.get("image") == "crmledger:latest"
    }
    assert set(commands) == {
        "api",
        "projector",
        "process-manager",
        "relay",
        "commands",
        "kafka-projector",
    }
    for name, command in commands.items():
        args = parser.parse_args(command)  # exits (fails the test) on an unknown role
        assert callable(args.run), name


def test_postgres_kafka_and_the_api_have_health_checks_and_workers_wait_for_them() -> None:
    services = _compose()["services"]
    for name in ("postgres", "kafka", "api"):
        assert "healthcheck" in services[name], name
    for name in ("api", "projector", "process-manager", "relay", "commands", "kafka-projector"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["kafka"]["condition"] == "service_healthy"
        env = services[name]["environment"]
        assert env["CRMLEDGER_DATABASE_URL"].startswith("postgresql://")
        assert env["CRMLEDGER_KAFKA_BOOTSTRAP_SERVERS"]
