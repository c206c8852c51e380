"""The contacts read model: every version of every contact, as of any position
(``queries``); no personal data in the clear, only the store's ciphertext of it."""

from readmodels.contacts.evolve import HANDLERS, ContactVersions
from readmodels.versions import VersionedSlice

SLICE = VersionedSlice("contacts", ContactVersions, HANDLERS)
