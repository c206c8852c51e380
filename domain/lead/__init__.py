"""Leads: the front of the funnel, from first contact to an opportunity.

``state`` holds the aggregate, ``events`` what happens to it, ``rules`` what may be done
to it; every public name is importable from ``domain.lead`` (each module lists its own
in ``__all__``).
"""

from __future__ import annotations

from domain.lead.events import *  # noqa: F403
from domain.lead.rules import *  # noqa: F403
from domain.lead.state import *  # noqa: F403
