"""Every call to Exact Online and Monday.com, counted by system and status in ApiCallCount rows.

Shared state: the counts live in the database, so /metrics is right whichever process made the
calls and whichever process serves the scrape. The clients count through `count_call`, handed
in by their factories (a bare client in a unit test counts nothing).

Calls happen inside the pipeline's transactions; on PostgreSQL the count is written through a
connection of its own in autocommit (one atomic UPDATE), so no worker waits on another's row
lock and a rolled-back sync still counts the calls it made.
"""

from __future__ import annotations

import logging
import os
import threading
from contextlib import suppress

from django.db import DEFAULT_DB_ALIAS, DatabaseError, InterfaceError, OperationalError, connections
from django.db.models import F

from integrations.models import ApiCallCount

logger = logging.getLogger(__name__)

SIDE_ALIAS = "api_calls"
_side = threading.local()


def _alias() -> str:
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        return DEFAULT_DB_ALIAS  # SQLite: one writer at a time anyway
    if getattr(_side, "pid", None) != os.getpid():  # first use in this thread, or after a fork
        connections[SIDE_ALIAS] = connections.create_connection(DEFAULT_DB_ALIAS)
        _side.pid = os.getpid()
    return SIDE_ALIAS


def close_side_connection() -> None:
    """Close this thread's counting connection, if it has one (threads that end call it)."""
    if getattr(_side, "pid", None) == os.getpid():
        with suppress(DatabaseError):  # a connection PostgreSQL already dropped
            connections[SIDE_ALIAS].close()
        del connections[SIDE_ALIAS]
        _side.pid = None


def count_call(system: str, status: int | str) -> None:
    """Add one call to `system` ("exact", "monday") that ended with `status` (an HTTP status,
    or "timeout" / "unreachable" when no answer came). A count never fails the call: when the
    side connection is broken (PostgreSQL restarted) it is replaced once, then the count is
    dropped with a warning."""
    key = {"system": system, "status": str(status)}
    alias = _alias()
    if alias == DEFAULT_DB_ALIAS:
        _add(alias, key)
        return
    try:
        _add(alias, key)
    except (OperationalError, InterfaceError):
        close_side_connection()
        try:
            _add(_alias(), key)
        except (OperationalError, InterfaceError):
            logger.warning("metrics.api_call.not_counted", extra=key)


def _add(alias: str, key: dict) -> None:
    rows = ApiCallCount.objects.using(alias)
    if rows.filter(**key).update(count=F("count") + 1):
        return
    rows.bulk_create([ApiCallCount(**key, count=0)], ignore_conflicts=True)
    rows.filter(**key).update(count=F("count") + 1)
