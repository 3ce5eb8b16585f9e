"""Reading Exact's failed answers: the status and Exact's own message mapped to the B4 error
hierarchy (never the body: it may echo what we sent)."""

from __future__ import annotations

import json

import requests

from integrations.errors import (
    IntegrationError,
    NotFound,
    RateLimited,
    ReconnectRequired,
    RemoteRejected,
    RemoteUnavailable,
)


def error_from_response(response: requests.Response, endpoint: str) -> IntegrationError:
    """Map a failed answer to the B4 hierarchy, with Exact's own message, never the body."""
    status = response.status_code
    reason = exact_message(response)
    text = f"Exact Online answered HTTP {status} on {endpoint}" + (f": {reason}" if reason else ".")
    if status == 401:
        return ReconnectRequired(
            text,
            hint="Re-authorize the connection; the grant or division consent is gone.",
            status=status,
        )
    if status == 403:
        return RemoteRejected(
            text,
            hint="Check the app's scopes and the divisions ticked at consent.",
            status=status,
        )
    if status == 404:
        return NotFound(text, status=status)
    if status == 429:
        return RateLimited(text, retry_after=60.0, status=status)
    if status >= 500:
        return RemoteUnavailable(
            text, hint="Exact Online may be down; it is retried later.", status=status
        )
    return RemoteRejected(text, status=status)


def exact_message(response: requests.Response) -> str:
    """`error.message.value` of Exact's error body (reference §3.8), else the Reason header."""
    value = ""
    try:
        body = json.loads(response.content or b"null")
        value = body["error"]["message"]["value"]
    except (ValueError, KeyError, TypeError):
        pass
    value = str(value or response.headers.get("Reason", "") or "").strip()
    return value[:300]
