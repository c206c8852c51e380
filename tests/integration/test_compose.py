"""compose.yaml stays in step with the code: its services run commands the CLI has, with
roles the worker has and settings the settings module reads."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from adapters.cli import parser as build_parser
from adapters.settings import Settings
from tests.compose import (
    Service,
    crmledger_services,
    load_compose,
    load_image,
    setting_variables,
    settings_of,
    unknown_roles,
    unknown_variables,
    worker_roles,
)


def test_every_crmledger_service_runs_a_command_the_cli_accepts() -> None:
    # Given the services built from this repository, whose image runs `crmledger`
    image = load_image()
    assert image.entrypoint == ("crmledger",)
    services = crmledger_services(load_compose(), image)
    # Then they are the API and every worker, each a command the CLI accepts
    assert {s.name for s in services} == {
        "api",
        "projector",
        "process-manager",
        "automations",
        "relay",
        "commands",
        "kafka-projector",
    }
    parser = build_parser()
    for service in services:
        args = parser.parse_args(service.command)  # exits (fails the test) on an unknown role
        assert callable(args.run), service.name


def test_postgres_kafka_and_the_api_have_health_checks_and_workers_wait_for_them() -> None:
    services = load_compose()["services"]
    for name in ("postgres", "kafka", "api"):
        assert "healthcheck" in services[name], name
    workers = ("projector", "process-manager", "automations", "relay", "commands")
    for name in ("api", *workers, "kafka-projector"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["kafka"]["condition"] == "service_healthy"
        env = services[name]["environment"]
        assert env["CRMLEDGER_DATABASE_URL"].startswith("postgresql://")
        assert env["CRMLEDGER_KAFKA_BOOTSTRAP_SERVERS"]


def test_the_setting_variables_are_derived_from_the_settings_fields() -> None:
    # Given the variables the settings module reads, derived from its fields and prefix
    variables = setting_variables()
    # Then each names its field, and reading one from the environment sets that field
    assert variables["CRMLEDGER_DATABASE_SCHEMA"] == "database_schema"
    assert variables["CRMLEDGER_KAFKA_MAX_POLL_INTERVAL_SECONDS"] == (
        "kafka_max_poll_interval_seconds"
    )
    assert settings_of({"CRMLEDGER_RELAY_BATCH": "7"}).relay_batch == 7


def test_every_crmledger_variable_in_compose_and_the_image_is_a_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given compose.yaml (its x-crmledger anchor and every service) and the image's ENV
    compose = load_compose()
    image = load_image()
    # Then every CRMLEDGER_* variable they set is one the settings module reads
    assert unknown_variables(compose) == []
    assert set(image.env) <= set(setting_variables())
    # and each service's environment, as a process reads it, is valid settings holding it
    fields = setting_variables()
    for service in crmledger_services(compose, image):
        for name in setting_variables():
            monkeypatch.delenv(name, raising=False)
        for name, value in service.environment.items():
            monkeypatch.setenv(name, value)
        read = Settings()
        for name, value in service.environment.items():
            assert str(getattr(read, fields[name])) == value, (service.name, name)


@pytest.mark.parametrize("where", ["x-crmledger", "service"])
def test_a_variable_that_is_no_setting_is_found(where: str) -> None:
    # Given compose.yaml with a misspelt variable, in the anchor or in one service
    compose = copy.deepcopy(load_compose())
    env = (
        compose["x-crmledger"]["environment"]
        if where == "x-crmledger"
        else compose["services"]["relay"].setdefault("environment", {})
    )
    env["CRMLEDGER_KAFKA_BOOTSTRAP_SERVER"] = "kafka:9092"
    env["CRMLEDGER_DATABASE_SCHEMA"] = "crmledger"  # a real one, beside it
    # When it is checked, Then the misspelt one is found, and only it
    assert unknown_variables(compose) == ["CRMLEDGER_KAFKA_BOOTSTRAP_SERVER"]


def test_every_worker_role_in_compose_is_one_the_cli_has() -> None:
    # Given the services that run `crmledger worker`
    services = crmledger_services(load_compose(), load_image())
    workers = [s for s in services if s.command[:1] == ("worker",)]
    # Then there are some, and each asks for a role of the CLI's
    assert workers
    assert unknown_roles(services) == {}
    assert "kafka-projector" in worker_roles()


def test_a_role_the_cli_does_not_have_is_found() -> None:
    # Given a service that asks for a misspelt role, beside one that asks for none
    wrong = Service("projector", ("worker", "--role", "projecter"), {}, 1)
    default = Service("default", ("worker",), {}, 1)
    also_wrong = Service("relay", ("worker", "--role=relays"), {}, 1)
    # When the services are checked, Then the misspelt ones are found with their roles
    assert unknown_roles([wrong, default, also_wrong]) == {
        "projector": "projecter",
        "relay": "relays",
    }


def test_the_api_listens_where_compose_publishes_it() -> None:
    # Given the services that serve the API and publish ports
    services = load_compose()["services"]
    for service in crmledger_services(load_compose(), load_image()):
        if service.command[:1] != ("serve",):
            continue
        settings = settings_of(service.environment)
        # Then it listens on every interface of its container, on the published port
        assert settings.http_host == "0.0.0.0"
        published = {str(p).rpartition(":")[2] for p in services[service.name]["ports"]}
        assert published == {str(settings.http_port)}, service.name


def test_the_image_copies_every_package_the_distribution_installs() -> None:
    # Given the packages pyproject.toml installs and the directories the Dockerfile copies
    root = Path(__file__).resolve().parents[2]
    found = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = {name.rstrip("*") for name in found["packages"]["find"]["include"]}
    copied = {
        line.split()[1]
        for line in (root / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ") and len(line.split()) == 3
    }
    # Then the image has each (a missing one fails only when a command imports it)
    assert packages <= copied, f"the Dockerfile does not copy {sorted(packages - copied)}"
