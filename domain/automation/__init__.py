"""Automations: an admin's rules "when this happens, do that", run by a process manager.

``definition`` holds what an automation is made of (its trigger and its actions) and
how they are checked; ``state`` the aggregate and its events; ``rules`` what may be done
to it and which records a triggering event concerns; every public name is importable
from ``domain.automation``.
"""

from __future__ import annotations

from domain.automation.definition import *  # noqa: F403
from domain.automation.rules import *  # noqa: F403
from domain.automation.state import *  # noqa: F403
