"""The HTTP interface (FastAPI): the routes of docs/api.md."""
