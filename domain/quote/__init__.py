"""Quotes: priced items offered on one opportunity.

``state`` holds the aggregate and its items, ``events`` what happens to it, ``rules``
what may be done to it, ``pricing`` items priced from a price book or as given, and
currency changes; every public name is importable from ``domain.quote`` (each module
lists its own in ``__all__``).
"""

from __future__ import annotations

from domain.quote.events import *  # noqa: F403
from domain.quote.pricing import *  # noqa: F403
from domain.quote.rules import *  # noqa: F403
from domain.quote.state import *  # noqa: F403
