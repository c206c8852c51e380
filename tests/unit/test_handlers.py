"""The handler table the composition root gives the bus (commands/handlers.py)."""

from __future__ import annotations

from typing import get_type_hints

import msgspec
import pytest

from commands import handlers
from commands.bus import Answer, Handlers
from commands.handlers import all_handlers
from commands.reference_data import CreateAccount, create_account
from commands.unit_of_work import UnitOfWork


def test_every_handler_takes_the_command_it_is_listed_for() -> None:
    for command_type, handler in all_handlers().items():
        hints = get_type_hints(handler)
        assert hints["uow"] is UnitOfWork, handler.__name__
        assert hints["command"] is command_type, handler.__name__
        assert hints["return"] is Answer, handler.__name__


def test_every_command_is_a_struct_named_for_kafka_messages() -> None:
    names = [command_type.__name__ for command_type in all_handlers()]
    assert len(names) == len(set(names)), "two commands share a name"
    for command_type in all_handlers():
        assert issubclass(command_type, msgspec.Struct), command_type.__name__


def test_a_command_listed_in_two_tables_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    twice: Handlers = {CreateAccount: create_account}
    monkeypatch.setattr(handlers, "TABLES", (*handlers.TABLES, twice))
    with pytest.raises(TypeError, match="CreateAccount has two handlers"):
        all_handlers()
