"""Reading Exact's answers: the JSON envelope (`d`, `results`, `__next`) with amounts as Decimal,
and failed answers mapped to the B4 error hierarchy with Exact's own message (never the body:
it may echo what we sent)."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import Any

import requests

from integrations.errors import (
    IntegrationError,
    NotFound,
    RateLimited,
    ReconnectRequired,
    RemoteRejected,
    RemoteUnavailable,
    UnexpectedResponse,
)

logger = logging.getLogger(__name__)


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


def parse_json(response: requests.Response, endpoint: str) -> dict:
    content_type = response.headers.get("Content-Type", "")
    if "json" not in content_type:
        logger.error(
            "exact.response.not_json", extra={"endpoint": endpoint, "content_type": content_type}
        )
        raise UnexpectedResponse(f"Exact Online answered {endpoint} in another format than JSON.")
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError as exc:
        raise UnexpectedResponse(f"Exact Online's answer on {endpoint} is not valid JSON.") from exc


def collection(payload: Any) -> tuple[list[dict], str | None]:
    """(rows, next link) from `{"d": {"results": [...], "__next": ...}}` or `{"d": {...}}`."""
    try:
        data = payload["d"]
    except (KeyError, TypeError) as exc:
        raise UnexpectedResponse("Exact Online's answer has no 'd' envelope.") from exc
    if isinstance(data, list):
        return data, None
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        return data["results"], data.get("__next") or None
    if isinstance(data, dict):
        return [data], None
    raise UnexpectedResponse("Exact Online's answer has an unexpected shape.")
