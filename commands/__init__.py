"""Commands: what callers ask for, and the handlers that decide and save it."""
