"""A database connection of one's own, per thread and process, for small writes that must not
wait on (or roll back with) the pipeline's transaction: the shared Monday budget and the API
call counts. On SQLite, which has one writer at a time anyway, the default connection serves."""

from __future__ import annotations

import os
import threading
from contextlib import suppress

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections


class SideConnection:
    def __init__(self, alias: str):
        self.name = alias
        self._local = threading.local()

    def alias(self) -> str:
        """The alias to write through: this thread's own connection on PostgreSQL."""
        if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
            return DEFAULT_DB_ALIAS  # a second SQLite connection would only lock itself out
        if getattr(self._local, "pid", None) != os.getpid():  # first use here, or after a fork
            connections[self.name] = connections.create_connection(DEFAULT_DB_ALIAS)
            self._local.pid = os.getpid()
        return self.name

    def close(self) -> None:
        """Close this thread's connection, if it has one (threads that end call it; so does a
        writer whose connection PostgreSQL dropped, to get a fresh one next time)."""
        if getattr(self._local, "pid", None) == os.getpid():
            with suppress(DatabaseError):  # a connection PostgreSQL already dropped
                connections[self.name].close()
            del connections[self.name]
            self._local.pid = None
