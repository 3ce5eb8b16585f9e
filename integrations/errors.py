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


class ReadOn(IntegrationError):
    """Not a failure: a long job stopped at a batch boundary before the cluster's timeout, and
    the next job goes on from there. Retried at once, spending no attempt."""

    retryable = True
    retry_after = 1.0


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


# --- words for admins ------------------------------------------------------------------------
# The remote's own error text (an OData sentence such as "This endpoint has mandatory filtering
# applied…") goes to the logs; admins read what failed and what to do.


def plain_reason(exc: IntegrationError, system: str = "Exact Online") -> str:
    """Why a call failed, in words for an admin, without a final full stop."""
    short = system.split()[0]
    if isinstance(exc, ReconnectRequired):
        return f"{system} did not accept this connection's authorization"
    if isinstance(exc, RateLimited):
        return f"{system}'s limit on calls is reached for now"
    if isinstance(exc, RemoteUnavailable):
        return f"{system} did not answer"
    if isinstance(exc, NotFound):
        return f"{short} did not find it"
    if isinstance(exc, AccessRefused):
        return exc.message.rstrip(".")  # written for admins already, and more precise
    if isinstance(exc, RemoteRejected):
        if exc.detail.get("status") == 403:
            return f"{short} refused access"
        return f"{short} refused the request"
    if isinstance(exc, UnexpectedResponse):
        return f"{system} sent an answer ml-connector could not read"
    return exc.message.rstrip(".")  # our own errors are written for admins already


def plain_action(exc: IntegrationError, system: str = "Exact Online") -> str:
    """What an admin can do about a failed call on an existing connection."""
    if isinstance(exc, ReconnectRequired):
        return f"Reconnect {system} (Re-authorize on its connection page)."
    if isinstance(exc, RateLimited):
        return "Try again in a few minutes."
    if isinstance(exc, AccessRefused) and exc.hint:
        return exc.hint
    if isinstance(exc, RemoteRejected) and exc.detail.get("status") == 403:
        return (
            f"Reconnect {system} and tick this division on the consent page; if it keeps "
            "failing, check the app's scopes."
        )
    if type(exc) in (IntegrationError, ConfigurationError) and exc.hint:
        return exc.hint
    return f"Try again later; if it keeps failing, reconnect {system}."
