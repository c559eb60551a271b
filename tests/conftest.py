"""Test-suite configuration: pytester, for testing the shipped pytest plugin."""

pytest_plugins = ["pytester"]

# The store's databases (a SQLite file; a PostgreSQL schema when a server is named).
from store_support import postgres_schema, store_url  # noqa: E402, F401
