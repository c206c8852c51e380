"""The users read model: every version of every user (role, manager, partner account,
active), so the organisation as it stood at any position is a query (``queries``)."""

from readmodels.users.evolve import HANDLERS, Users
from readmodels.versions import VersionedSlice

SLICE = VersionedSlice("users", Users, HANDLERS)
