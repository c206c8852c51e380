"""The contracts read model: contracts by status, category, account and expiry, as of any
position (``queries``); each change a new version of its row (``evolve``, ``tables``)."""

from readmodels.contracts.evolve import HANDLERS, Contracts
from readmodels.versions import VersionedSlice

SLICE = VersionedSlice("contracts", Contracts, HANDLERS)
