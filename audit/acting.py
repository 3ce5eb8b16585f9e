"""The person on whose behalf the work in hand runs, so audit events name them rather than the
component that did the work ("manual", "poll") when a person started it from the admin."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# A contextvar like audit.correlation: each request, thread and task sees only its own user.
_user: ContextVar[Any] = ContextVar("audit_acting_user", default=None)


def current():
    """The user bound by the innermost acting_as(), or None (background work)."""
    return _user.get()


@contextmanager
def acting_as(user) -> Iterator[None]:
    token = _user.set(user if user is not None and user.is_authenticated else None)
    try:
        yield
    finally:
        _user.reset(token)


class ActingUserMiddleware:
    """Binds the signed-in user for the request, so whatever the request runs inline (a re-sync
    from the review queue, "Sync now") is audited as that person."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with acting_as(getattr(request, "user", None)):
            return self.get_response(request)
