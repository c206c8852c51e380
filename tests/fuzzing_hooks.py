"""Hooks the schema-driven fuzzer loads (``SCHEMATHESIS_HOOKS=tests.fuzzing_hooks``).

The fuzzer calls every route as one admin. Deactivating that admin, revoking their
tokens or taking their role away are valid requests the fuzzer would make sooner or
later, after which every later request could only be refused (401/403) and test
nothing; so no generated request names the fuzzer's own login. Everything else,
other users included, is fair game.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis

FUZZER_LOGIN = os.environ.get("CRMLEDGER_FUZZER_LOGIN", "fuzzer")


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    return (case.path_parameters or {}).get("login") != FUZZER_LOGIN
