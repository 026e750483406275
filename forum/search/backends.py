from __future__ import annotations

from django.db import connection

from .base import SearchBackend


def backend() -> SearchBackend:
    """The backend for the database in use."""
    if connection.vendor == "postgresql":
        from .postgres import PostgresBackend

        return PostgresBackend()
    from .sqlite import SQLiteBackend

    return SQLiteBackend()
