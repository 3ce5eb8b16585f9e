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

from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError
from django.db.models import F

from integrations.models import ApiCallCount
from integrations.side_connections import SideConnection

logger = logging.getLogger(__name__)

_side = SideConnection("api_calls")


def close_side_connection() -> None:
    _side.close()


def count_call(system: str, status: int | str) -> None:
    """Add one call to `system` ("exact", "monday") that ended with `status` (an HTTP status,
    or "timeout" / "unreachable" when no answer came). A count never fails the call: when the
    side connection is broken (PostgreSQL restarted) it is replaced once, then the count is
    dropped with a warning."""
    key = {"system": system, "status": str(status)}
    alias = _side.alias()
    if alias == DEFAULT_DB_ALIAS:
        _add(alias, key)
        return
    try:
        _add(alias, key)
    except (OperationalError, InterfaceError):
        close_side_connection()
        try:
            _add(_side.alias(), key)
        except (OperationalError, InterfaceError):
            logger.warning("metrics.api_call.not_counted", extra=key)


def _add(alias: str, key: dict) -> None:
    rows = ApiCallCount.objects.using(alias)
    if rows.filter(**key).update(count=F("count") + 1):
        return
    rows.bulk_create([ApiCallCount(**key, count=0)], ignore_conflicts=True)
    rows.filter(**key).update(count=F("count") + 1)
