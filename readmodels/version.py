"""The read models' projection version: in every table name, the tracking name and the
SQLite file, so a new version rebuilds beside the old one and the switch is a restart."""

VERSION = "v4"
