"""The leads read model: leads by status, source, campaign and owner, campaigns and their
conversion, as of any position (``queries``); each change a new version of its row."""

from readmodels.leads.slice import LeadsSlice

SLICE = LeadsSlice()
