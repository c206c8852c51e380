"""The accounts read model: every version of every account, its details and whether and
into which account it was merged, as of any position (``queries``); with what counts
under an account then (its open deals, contracts and contacts, merged accounts' too)."""

from readmodels.accounts.evolve import HANDLERS, AccountVersions
from readmodels.versions import VersionedSlice

SLICE = VersionedSlice("accounts", AccountVersions, HANDLERS)
