"""compose.yaml as a container runtime reads it: the crmledger services and what each runs.

A crmledger service is one built from this repository (it has ``build``). Its container
runs the image's ``ENTRYPOINT`` (``crmledger``) with the service's ``command`` (or the
image's ``CMD``), in the image's ``ENV`` overlaid by the service's ``environment`` —
after YAML merge keys (``<<: *crmledger``), which ``yaml.safe_load`` resolves as compose
does. ``deploy.replicas`` says how many containers of it run.

- ``crmledger_services``: those services, in file order.
- ``setting_variables``: the ``CRMLEDGER_*`` names the settings module reads, derived from
  its fields and ``env_prefix``; ``unknown_variables``: names in compose that it does not.
- ``worker_roles``: the roles ``crmledger worker --role`` accepts, read from the CLI's
  parser; ``unknown_roles``: services that ask for another.
"""

from __future__ import annotations

import argparse
import json
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from adapters.cli import parser as cli_parser
from adapters.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"


@dataclass(frozen=True)
class Image:
    """What the Dockerfile gives every container of the image."""

    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    env: dict[str, str]


@dataclass(frozen=True)
class Service:
    name: str
    command: tuple[str, ...]  # the arguments of the entrypoint
    environment: dict[str, str]  # the image's ENV and the service's environment
    replicas: int


def load_compose(path: Path = COMPOSE) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def load_image(path: Path = DOCKERFILE) -> Image:
    """The ENTRYPOINT, CMD (exec form) and ENV (``KEY=value`` form) of a Dockerfile."""
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        instruction, _, rest = line.strip().partition(" ")
        if instruction == "ENTRYPOINT":
            entrypoint = tuple(json.loads(rest))
        elif instruction == "CMD":
            cmd = tuple(json.loads(rest))
        elif instruction == "ENV":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                env[key] = value
    return Image(entrypoint, cmd, env)


def _environment(spec: dict[str, Any] | list[str] | None) -> dict[str, str]:
    """A service's ``environment``, in either of compose's forms, as strings."""
    if spec is None:
        return {}
    if isinstance(spec, list):
        return dict(item.partition("=")[::2] for item in spec)
    env: dict[str, str] = {}
    for key, value in spec.items():
        # compose refuses booleans (YAML reads an unquoted `no` as false): quote them
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(f"{key}: {value!r} is not a string or a number; quote it")
        env[key] = str(value)
    return env


def crmledger_services(compose: dict[str, Any], image: Image) -> list[Service]:
    services = []
    for name, spec in compose["services"].items():
        if "build" not in spec:
            continue  # an image of someone else's (PostgreSQL, Kafka)
        command = spec.get("command", list(image.cmd))
        if isinstance(command, str):
            command = shlex.split(command)
        replicas = int(spec.get("deploy", {}).get("replicas", 1))
        env = {**image.env, **_environment(spec.get("environment"))}
        services.append(Service(name, tuple(command), env, replicas))
    return services


def setting_variables() -> dict[str, str]:
    """The environment variable of each setting, by its name: the prefix and the field's
    name (or its alias), as pydantic-settings reads them (case-insensitively)."""
    prefix = Settings.model_config.get("env_prefix", "")
    variables = {}
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias if isinstance(info.validation_alias, str) else None
        variables[(alias or f"{prefix}{name}").upper()] = name
    return variables


def _environments(node: Any) -> Iterator[dict[str, str]]:
    """Every ``environment`` block anywhere in the file: services and ``x-`` anchors."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "environment":
                yield _environment(value)
            else:
                yield from _environments(value)
    elif isinstance(node, list):
        for item in node:
            yield from _environments(item)


def unknown_variables(compose: dict[str, Any]) -> list[str]:
    """The ``CRMLEDGER_*`` variables of ``compose`` that are no setting, sorted."""
    prefix = str(Settings.model_config.get("env_prefix", "")).upper()
    known = setting_variables()
    named = {
        key.upper()
        for env in _environments(compose)
        for key in env
        if key.upper().startswith(prefix)
    }
    return sorted(named - set(known))


def settings_of(environment: dict[str, str]) -> Settings:
    """The settings a process with ``environment`` reads (and validates)."""
    fields = setting_variables()
    given = {
        fields[key.upper()]: value for key, value in environment.items() if key.upper() in fields
    }
    return Settings(**given)


def worker_roles() -> set[str]:
    """The choices of ``crmledger worker --role``, from the CLI's own parser."""
    root = cli_parser()
    commands = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
    worker = commands.choices["worker"]
    role = next(a for a in worker._actions if "--role" in a.option_strings)
    assert role.choices is not None
    return set(role.choices)


def role_of(command: tuple[str, ...]) -> str | None:
    """The ``--role`` a command asks for (``--role x`` or ``--role=x``), if any."""
    for n, arg in enumerate(command):
        if arg == "--role" and n + 1 < len(command):
            return command[n + 1]
        if arg.startswith("--role="):
            return arg.removeprefix("--role=")
    return None


def unknown_roles(services: list[Service]) -> dict[str, str]:
    """The services that run ``crmledger worker`` with a role the CLI does not have: their
    role, by service name."""
    roles = worker_roles()
    asked = {s.name: role_of(s.command) for s in services if s.command[:1] == ("worker",)}
    # no --role: the parser's default, one of its choices
    return {name: role for name, role in asked.items() if role is not None and role not in roles}
