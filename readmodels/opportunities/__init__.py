"""The opportunities list: every version of every opportunity, as of any position
(``queries``), listed and searched through ``readmodels.lists``."""

from readmodels.opportunities.evolve import HANDLERS, OpportunityVersions
from readmodels.versions import VersionedSlice

SLICE = VersionedSlice("opportunities", OpportunityVersions, HANDLERS)
