"""Opportunities: a deal with an account, moving through a pipeline's stages.

``state`` holds the aggregate, ``events`` what happens to it, ``rules`` what may be done
to it (``custom``: its custom values); every public name is importable from
``domain.opportunity`` (each module lists its own in ``__all__``).
"""

from __future__ import annotations

from domain.opportunity.custom import *  # noqa: F403
from domain.opportunity.events import *  # noqa: F403
from domain.opportunity.rules import *  # noqa: F403
from domain.opportunity.state import *  # noqa: F403
