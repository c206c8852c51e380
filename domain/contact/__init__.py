"""Contacts: the people of an account a salesperson deals with.

``state`` holds the aggregate, ``events`` what happens to it, ``rules`` what may be done
to it; every public name is importable from ``domain.contact`` (each module lists its own
in ``__all__``).
"""

from __future__ import annotations

from domain.contact.events import *  # noqa: F403
from domain.contact.rules import *  # noqa: F403
from domain.contact.state import *  # noqa: F403
