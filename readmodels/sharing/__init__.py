"""The sharing read model: the records whose visibility is not decided by their owner
alone — private ones, shared ones, leads split among several users — as of any position.
Lists and charts answer over an owner set and ask here only for these exceptions."""

from readmodels.sharing.evolve import HANDLERS, SharingVersions
from readmodels.versions import VersionedSlice

SLICE = VersionedSlice("sharing", SharingVersions, HANDLERS)
