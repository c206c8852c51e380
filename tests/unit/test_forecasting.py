"""A deal's forecast category and probability: one rule (domain/forecasting.py) for the
opportunity and the charts."""

from __future__ import annotations

import pytest

from domain.forecasting import effective_forecast


def test_an_open_deal_takes_its_stages_defaults() -> None:
    assert effective_forecast("open", 50, "best_case") == ("best_case", 50)


def test_an_open_deals_overrides_win_each_on_its_own() -> None:
    assert effective_forecast("open", 50, "best_case", 80, None) == ("best_case", 80)
    assert effective_forecast("open", 50, "best_case", None, "commit") == ("commit", 50)
    assert effective_forecast("open", 50, "best_case", 0, "omitted") == ("omitted", 0)


def test_a_won_deal_is_closed_at_100_whatever_was_overridden() -> None:
    assert effective_forecast("won", 100, "closed") == ("closed", 100)
    assert effective_forecast("won", 50, "best_case", 30, "pipeline") == ("closed", 100)


@pytest.mark.parametrize("status", ["lost", "unqualified", "deleted"])
def test_any_other_deal_is_omitted_at_0(status: str) -> None:
    assert effective_forecast(status, 0, "omitted") == ("omitted", 0)
    assert effective_forecast(status, 75, "commit", 90, "commit") == ("omitted", 0)
