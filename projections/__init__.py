"""Projectors (event → read-model change) and, later, the process manager."""
