"""The correlation id of the work in hand (a webhook event, a poll), for log lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# A contextvar, not a thread-local: each worker thread and each task gets its own value, and
# bound() restores the outer value, so one job's id never leaks into the next job's lines.
_current: ContextVar[str] = ContextVar("correlation_id", default="")


def current() -> str:
    """The id bound by the innermost bound(), or "" when no work is in hand."""
    return _current.get()


@contextmanager
def bound(correlation_id: str) -> Iterator[None]:
    """Bind the id for the duration of the block (the same id audit.record is given)."""
    token = _current.set(correlation_id)
    try:
        yield
    finally:
        _current.reset(token)


class CorrelationFilter(logging.Filter):
    """Adds `correlation_id` to a record when one is bound (an explicit extra wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "correlation_id", ""):
            cid = _current.get()
            if cid:
                record.correlation_id = cid
        return True
