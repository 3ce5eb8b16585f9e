"""Monday.com errors: the B4 hierarchy, each carrying Monday's message, code and request id."""

from __future__ import annotations

from typing import Any

from integrations.errors import (
    NotFound,
    RateLimited,
    ReconnectRequired,
    RemoteRejected,
    RemoteUnavailable,
)


class MondayErrorMixin:
    """Monday's own words and identifiers, kept on every Monday error.

    `message` is Monday's message (admin-safe: Monday never echoes the token); `code` is
    `extensions.code` or the legacy top-level `error_code`; `path` names the alias that failed.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        request_id: str = "",
        status: int | None = None,
        path: tuple = (),
        error_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ):
        super().__init__(message, code=code, request_id=request_id, status=status, **kwargs)
        self.code = code
        self.request_id = request_id
        self.status = status
        self.path = tuple(path)
        self.error_data = error_data or {}

    @property
    def alias(self) -> str:
        """The top-level field alias this error belongs to ("m3"), or "" for the whole request."""
        return str(self.path[0]) if self.path else ""


class MondayAuthError(MondayErrorMixin, ReconnectRequired):
    """The token was rejected (401 / UNAUTHENTICATED): reconnect Monday.com."""


class MondayPermissionDenied(MondayErrorMixin, RemoteRejected):
    """The token is valid but may not touch this board (403 / UserUnauthorizedException)."""


class MondayNotFound(MondayErrorMixin, NotFound):
    """A board, group or item id Monday does not know."""


class MondayRejected(MondayErrorMixin, RemoteRejected):
    """Monday refused the request as sent (validation, item name too long, board full)."""


class BoardFull(MondayRejected):
    """The board holds as many items as Monday allows (ItemsLimitationException): a new item
    needs another board; the refused create made nothing."""


class MondayColumnError(MondayRejected):
    """A column id or value Monday refused; `column_id` and `label` say which and what."""

    def __init__(
        self,
        message: str,
        *,
        column_id: str = "",
        label: str = "",
        column_title: str = "",
        **kwargs: Any,
    ):
        super().__init__(message, **kwargs)
        self.column_id = column_id
        self.label = label
        self.column_title = column_title  # filled in by items.py from the board, when known

    def __str__(self) -> str:
        # What the admin shows (SyncedRecord.last_error): the sentence, not Monday's jargon.
        return self.admin_message(self.column_title)

    def admin_message(self, column_title: str = "") -> str:
        """One sentence for finance staff: which column refused what, and what to do."""
        title = column_title or self.column_id or "?"
        if self.label:
            return (
                f"The Monday.com column “{title}” has no label “{self.label}”. "
                "Choose one of its labels in the mapping, or allow new labels on the route."
            )
        return f"The Monday.com column “{title}” refused the value: {self.message}"


class ComplexityExceeded(MondayRejected):
    """One query cost more than the per-query ceiling; the batch must be split, not retried."""


class MondayConflict(MondayErrorMixin, RateLimited):
    """409: a request with the same Idempotency-Key is still running; wait and replay it."""


class BudgetExhausted(MondayErrorMixin, RateLimited):
    """The per-minute complexity budget is spent; `retry_after` says when it resets."""


class MinuteRateLimited(MondayErrorMixin, RateLimited):
    """Too many requests this minute (429 / RATE_LIMIT_EXCEEDED)."""


class DailyLimitExceeded(MondayErrorMixin, RateLimited):
    """The account's daily call limit is used up; writes resume after the daily reset."""


class MondayServerError(MondayErrorMixin, RemoteUnavailable):
    """5xx, timeout or connection error talking to Monday.com."""
