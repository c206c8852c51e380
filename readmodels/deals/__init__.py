"""The deals read model: opportunities in memory for the charts (pipeline, forecast, stage
history), baselines and their waterfall, as of any position or instant (``queries``);
their rows and checkpoints in tables (``evolve``, ``tables``, ``checkpoints``)."""

from readmodels.deals.slice import DealsSlice

SLICE = DealsSlice()
