"""A deal's forecast: the category it counts in and the probability it is weighted by.

One rule, used by the opportunity (``Opportunity.forecast``) and by the charts:

- a won deal is ``closed``, at 100 %;
- an open deal takes its own override where it has one, else its stage's default
  (the category and the probability each on its own);
- any other deal (lost, unqualified…) is ``omitted``, at 0 %: a closed deal's
  figures follow its status, never an override made while it was open.

Roll-ups and weighting are in docs/domain.md ("Pipeline") and docs/readmodels.md.
"""

from __future__ import annotations

from typing import Literal, TypeVar

from domain.pipeline import StageCategory

# The categories in the order a forecast lists them.
FORECAST_ORDER: tuple[StageCategory, ...] = ("pipeline", "best_case", "commit", "closed", "omitted")

# The category type the caller works with: the domain's ``StageCategory``, or ``str``
# for a read model that keeps categories as text.
C = TypeVar("C", bound=str)


def effective_forecast(
    status: str,
    stage_probability: int,
    stage_category: C,
    probability_override: int | None = None,
    category_override: C | None = None,
) -> tuple[C | Literal["closed", "omitted"], int]:
    """(forecast category, probability in whole percent) of a deal with ``status`` in a
    stage whose defaults are ``stage_probability`` and ``stage_category``."""
    if status == "won":
        return "closed", 100
    if status != "open":
        return "omitted", 0
    return (
        stage_category if category_override is None else category_override,
        stage_probability if probability_override is None else probability_override,
    )
