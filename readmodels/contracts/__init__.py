"""The contracts read model: contracts by status, category, account and expiry, as of any
position (``queries``); each change a new version of its row (``evolve``, ``tables``)."""

from readmodels.contracts.slice import ContractsSlice

SLICE = ContractsSlice()
