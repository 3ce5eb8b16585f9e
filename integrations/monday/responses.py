"""Reading Monday's answers: errors in the body (extensions.code or the legacy error_code) and
HTTP statuses mapped to the B4 error hierarchy, with the wait Monday names where it names one."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from integrations.errors import IntegrationError, RateLimited, UnexpectedResponse
from integrations.monday.errors import (
    BoardFull,
    BudgetExhausted,
    ComplexityExceeded,
    DailyLimitExceeded,
    MinuteRateLimited,
    MondayAuthError,
    MondayColumnError,
    MondayConflict,
    MondayNotFound,
    MondayPermissionDenied,
    MondayRejected,
    MondayServerError,
)

# Request-level errors: they concern the whole request even when Monday names a path.
_REQUEST_LEVEL = (MondayAuthError, RateLimited, ComplexityExceeded)


# extensions.code (current) and error_code (legacy) -> error class.
# Reference: https://developer.monday.com/api-reference/docs/errors
_CODES: dict[str, type[IntegrationError]] = {
    "UNAUTHENTICATED": MondayAuthError,
    "Unauthenticated": MondayAuthError,
    "UserUnauthorizedException": MondayPermissionDenied,
    "ResourceNotFoundException": MondayNotFound,
    "InvalidBoardIdException": MondayNotFound,
    "InvalidItemIdException": MondayNotFound,
    "InvalidGroupIdException": MondayNotFound,
    "InvalidUserIdException": MondayNotFound,
    "InvalidColumnIdException": MondayColumnError,
    "ColumnValueException": MondayColumnError,
    "InvalidArgumentException": MondayRejected,
    "ItemNameTooLongException": MondayRejected,
    "ItemsLimitationException": BoardFull,
    "CursorException": MondayRejected,
    # Unconfirmed: the code Monday gives a document that fails validation.
    "GRAPHQL_VALIDATION_FAILED": MondayRejected,
    "GraphQLValidationFailed": MondayRejected,
    "REQUEST_MAX_COMPLEXITY_EXCEEDED": ComplexityExceeded,
    "maxComplexityExceeded": ComplexityExceeded,
    "COMPLEXITY_BUDGET_EXHAUSTED": BudgetExhausted,
    "ComplexityException": BudgetExhausted,  # legacy; a per-query overrun is told by its message
    "RATE_LIMIT_EXCEEDED": MinuteRateLimited,
    "RateLimitExceeded": MinuteRateLimited,
    "DAILY_LIMIT_EXCEEDED": DailyLimitExceeded,
    "DailyLimitExceeded": DailyLimitExceeded,
    "INTERNAL_SERVER_ERROR": MondayServerError,
}


_STATUS: dict[int, type[IntegrationError]] = {
    401: MondayAuthError,
    403: MondayPermissionDenied,
    404: MondayNotFound,
    409: MondayConflict,
    429: MinuteRateLimited,
}


_DEFAULT_WAIT = {MondayConflict: 1.0, BudgetExhausted: 60.0, MinuteRateLimited: 60.0}


_DAILY_WAIT = 3600.0


_RESET_IN = re.compile(r"reset in (\d+) seconds?", re.I)


@dataclass(frozen=True)
class GraphQLResult:
    """`data` as Monday answered it, and the errors that belong to single aliases."""

    data: dict[str, Any]
    alias_errors: tuple[IntegrationError, ...] = ()
    replayed: bool = False


def _retry_after(err_dict: dict, headers: dict, cls: type) -> float:
    ext = err_dict.get("extensions") or {}
    data = ext.get("error_data") or err_dict.get("error_data") or {}
    for candidate in (ext.get("retry_in_seconds"), data.get("retry_in_seconds")):
        if isinstance(candidate, int | float):
            return float(candidate)
    header = headers.get("Retry-After")
    if header and str(header).strip().isdigit():
        return float(header)
    match = _RESET_IN.search(str(err_dict.get("message") or err_dict.get("error_message") or ""))
    if match:
        return float(match.group(1))
    return _DAILY_WAIT if cls is DailyLimitExceeded else _DEFAULT_WAIT.get(cls, 60.0)


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _label_of(raw: Any) -> str:
    """The status/dropdown label in a column value Monday echoed back, if any."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return ""
    if isinstance(raw, dict):
        label = raw.get("label") or raw.get("labels")
        if isinstance(label, list):
            return ", ".join(str(x) for x in label)
        return str(label or "")
    return ""


def _build_error(err: dict, *, status: int, headers: dict, fallback: type) -> IntegrationError:
    """One Monday error object (current or legacy shape) -> one typed exception."""
    ext = err.get("extensions") or {}
    code = str(ext.get("code") or err.get("error_code") or "")
    message = str(err.get("message") or err.get("error_message") or "Monday.com refused it.")
    cls = _CODES.get(code, fallback)
    if code == "ComplexityException" and "exceeds max complexity" in message.lower():
        cls = ComplexityExceeded
    error_data = ext.get("error_data") or err.get("error_data") or {}
    kwargs: dict[str, Any] = dict(
        code=code,
        request_id=str(
            ext.get("request_id") or err.get("request_id") or headers.get("x-request-id") or ""
        ),
        status=_int(ext.get("status_code") or err.get("status_code"), status),
        path=tuple(err.get("path") or ()),
        error_data=error_data if isinstance(error_data, dict) else {},
    )
    if issubclass(cls, RateLimited):
        kwargs["retry_after"] = _retry_after(err, headers, cls)
    if cls is MondayColumnError:
        data = kwargs["error_data"]
        kwargs["column_id"] = str(data.get("column_id") or ext.get("column_id") or "")
        kwargs["label"] = str(data.get("label") or "") or _label_of(data.get("column_value"))
    return cls(message, **kwargs)


def map_response(
    status: int, body: Any, headers: dict
) -> tuple[IntegrationError | None, list[IntegrationError]]:
    """Map one HTTP answer to (request-level error or None, errors of single aliases).

    The one place where Monday's status codes, `errors[].extensions.code` and the legacy
    top-level `error_code`/`error_message` become exceptions. An error whose `path` names an
    alias of a partly successful answer belongs to that alias; everything else (and every
    authentication, limit or server error) belongs to the whole request.
    """
    if status >= 500:
        fallback: type[IntegrationError] = MondayServerError
    else:
        fallback = _STATUS.get(status, MondayRejected)
    if not isinstance(body, dict):
        if status >= 400:
            return _build_error(
                {"message": _status_sentence(status)},
                status=status,
                headers=headers,
                fallback=fallback,
            ), []
        return UnexpectedResponse("Monday.com answered something that is not JSON."), []
    raw_errors: list[dict] = []
    if isinstance(body.get("errors"), list):
        raw_errors = [e if isinstance(e, dict) else {"message": str(e)} for e in body["errors"]]
    if body.get("error_code") or body.get("error_message"):
        raw_errors.append(body)
    if not raw_errors and status >= 400:
        raw_errors.append({"message": _status_sentence(status)})
    errors = [
        _build_error(e, status=status, headers=headers, fallback=fallback) for e in raw_errors
    ]
    data = body.get("data")
    request_level = [
        e
        for e in errors
        if isinstance(e, _REQUEST_LEVEL)
        or not getattr(e, "alias", "")
        or not isinstance(data, dict)
    ]
    alias_errors = [e for e in errors if e not in request_level]
    return (request_level[0] if request_level else None), alias_errors


def _status_sentence(status: int) -> str:
    if status == 401:
        return "Monday.com rejected the API token."
    if status >= 500:
        return f"Monday.com had a server error (HTTP {status})."
    return f"Monday.com refused the request (HTTP {status})."
