"""The HTTP interface (FastAPI): the routes of API.md."""
