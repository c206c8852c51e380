"""Process managers: deciders that turn events (and the passing of time) into commands.

Each follows the event log from its own recorded position, and records that position
in the same transaction as what it writes.
"""
