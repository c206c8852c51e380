"""The quotes list: every version of every quote, as of any position, listed and searched
through ``readmodels.lists`` (a quote is seen by whoever sees its opportunity)."""

from readmodels.quotes.evolve import HANDLERS, QuoteVersions
from readmodels.versions import VersionedSlice

SLICE = VersionedSlice("quotes", QuoteVersions, HANDLERS)
