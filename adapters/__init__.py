"""Adapters: persistence, HTTP, CLI, logging and the clock."""
