"""Read models: one package per slice (its evolve, tables and queries), registered here.

A new read model is a package implementing ``readmodels.slice.Slice`` and one line below.
"""

from readmodels import (
    accounts,
    audit,
    contacts,
    contracts,
    custom_fields,
    deals,
    leads,
    notifications,
    opportunities,
    quotes,
    sharing,
    tasks,
    users,
)
from readmodels.slice import topics

SLICES = (
    deals.SLICE,
    contracts.SLICE,
    leads.SLICE,
    contacts.SLICE,
    opportunities.SLICE,
    quotes.SLICE,
    accounts.SLICE,
    users.SLICE,
    sharing.SLICE,
    audit.SLICE,
    custom_fields.SLICE,
    tasks.SLICE,
    notifications.SLICE,
)

# Every topic the read model reads: all its slices'.
TOPICS = topics(event_type for slice_ in SLICES for event_type in slice_.handlers)
