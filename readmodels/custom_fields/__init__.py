"""The custom fields read model: every version of every custom field definition, so the
definitions as they stood at any position are a query (``queries``): an answer as of a
past position shows the values of the fields defined then."""

from readmodels.custom_fields.evolve import HANDLERS, Definitions
from readmodels.versions import VersionedSlice

SLICE = VersionedSlice("custom_fields", Definitions, HANDLERS)
