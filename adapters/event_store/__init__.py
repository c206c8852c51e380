"""The event store on eventsourcing 9.5: SQLite (embedded default) or PostgreSQL.

- ``codec``: ``EventMapper`` encodes events with msgspec under stable type names (never
  Python module paths) and upcasts old ``class_version`` payloads.
- ``sqlite`` / ``postgres`` (with ``postgres_personal``): the application recorders add
  tables written in the *same transaction* as the events: idempotency keys with their
  first answer, generated documents (offers), contract timers and personal-data keys.
  A refused or failed save leaves none of them behind. ``postgres`` also sets up the
  schema (one process at a time) and turns settings into the library's environment.
- ``application``: ``SalesLog``, the one eventsourcing application, and its environment.
- ``store``: ``SalesEventStore``, the command layer's ``EventStore`` port.
- ``log``: ``EventLog``, the projections' ``NotificationLog`` port.
"""
