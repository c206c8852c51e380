"""Taking a baseline, from HTTP and the CLI alike: the chart as it stands at the instant
asked for, computed now, and the command that records it."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import uuid4

from commands.read_model_commands import TakeBaseline
from domain.access import Principal
from domain.baseline import Chart
from readmodels.deals.analytics import Analytics
from readmodels.deals.specs import spec_from_params
from readmodels.scope import scope_params


def take_baseline(
    analytics: Analytics,
    name: str,
    chart: Chart,
    params: Mapping[str, str | None],
    as_of: str | None,
    *,
    principal: Principal | None = None,
) -> TakeBaseline:
    """``as_of``: a position or an instant to take it after the fact; None for now. The
    chart counts what ``principal`` may see, and the baseline keeps that scope."""
    spec = spec_from_params(chart, dict(params))
    position, instant, document = analytics.baseline_document(spec, as_of, principal)
    return TakeBaseline(
        baseline_id=uuid4(),
        name=name,
        chart=chart,
        params={**spec.params(), **scope_params(principal)},
        position=position,
        as_of=instant,
        document=document,
    )
