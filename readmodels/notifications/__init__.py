"""The notifications read model: every version of every notification (``tables``,
``evolve``), each user's own listed newest first (``queries``)."""

from readmodels.notifications.evolve import HANDLERS, Notifications
from readmodels.versions import VersionedSlice

SLICE = VersionedSlice("notifications", Notifications, HANDLERS)
