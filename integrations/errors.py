"""The IntegrationError hierarchy shared by the Exact Online and Monday.com code.

Each error carries one admin-safe sentence (`message`, never a token, code or raw body) and a
`hint` saying what to do. The class says what the caller must do: reconnect, wait, or flag.
"""

from __future__ import annotations


class IntegrationError(Exception):
    retryable = False

    def __init__(self, message: str, *, hint: str = "", retryable: bool | None = None, **detail):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if retryable is not None:
            self.retryable = retryable
        self.detail = detail  # e.g. code, request_id, status: safe identifiers only

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class ConfigurationError(IntegrationError):
    """A client id, secret or key is missing or wrong in the settings."""


class ReconnectRequired(IntegrationError):
    """The credentials were rejected; an admin must re-authorize the connection."""


class RateLimited(IntegrationError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RemoteUnavailable(IntegrationError):
    """5xx, timeout or connection error: worth retrying later."""

    retryable = True


class RemoteRejected(IntegrationError):
    """A 4xx with meaning (validation error, unknown record): not retryable as is."""


class NotFound(RemoteRejected):
    pass


class AccessRefused(RemoteRejected):
    """Exact answered 401 to a data call but calls the access token valid (a refresh is "too
    early"): the cause is not the token, so re-authorizing is not the cure; the connection
    stays connected. Check the division's consent and the app's scopes."""


class UnexpectedResponse(IntegrationError):
    """The body did not parse into our dataclasses (its shape is logged, never its content)."""
