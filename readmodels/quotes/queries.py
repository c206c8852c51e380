"""The quotes list (``readmodels.lists``): a quote is seen by whoever sees its opportunity
as it stood then."""

from __future__ import annotations

from readmodels.lists import Filter, ListSpec, Via
from readmodels.opportunities.queries import OPPORTUNITIES
from readmodels.quotes.tables import TABLE, QuoteRow

QUOTES = ListSpec(
    name="quotes",
    table=TABLE,
    row=QuoteRow,
    filters={
        "opportunity_id": Filter("opportunity_id"),
        "active": Filter("active"),
        "locked": Filter("locked"),
        "currency": Filter("currency"),
    },
    sorts=("name", "total", "created_at", "updated_at"),
    default_sort="-updated_at",
    visibility=Via("opportunity_id", OPPORTUNITIES),
    always=("NOT deleted",),
)
