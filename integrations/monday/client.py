"""MondayClient: the only code that POSTs GraphQL to Monday.com and turns its answers into errors."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
from django.conf import settings

from integrations import waits
from integrations.errors import IntegrationError, RateLimited, UnexpectedResponse
from integrations.monday.errors import (
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

if TYPE_CHECKING:
    from integrations.models import MondayConnection

logger = logging.getLogger(__name__)

# Pinned API version. Every document in queries.py (and every batch) is validated against
# integrations/monday/schema.graphql, the SDL monday published for 2025-04 (see schema.SOURCE.txt).
# Reference: https://developer.monday.com/api-reference/docs/api-versioning
API_VERSION = "2025-04"

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
    "ItemsLimitationException": MondayRejected,
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


@dataclass
class ClientStats:
    requests: int = 0
    max_query_complexity: int = 0
    total_complexity: int = 0
    rate_limit_waits: int = 0
    server_retries: int = 0
    waited_seconds: float = 0.0
    budget_pauses: int = 0


@dataclass
class BudgetTracker:
    """What Monday last said about the per-minute complexity budget (`complexity.after` and
    `reset_in_x_seconds`), on the client's clock. Shared by the clients of one connection
    object, so a poll that makes a client per page still paces across pages."""

    remaining: int | None = None
    reset_at: float = 0.0

    def wait_for(self, expected: int, now: float) -> float:
        """Seconds to wait before a request of `expected` points fits; 0 when it fits or
        when nothing is known (the window has reset, or no answer was seen yet)."""
        if self.remaining is None or now >= self.reset_at or self.remaining >= expected:
            return 0.0
        return self.reset_at - now


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


class MondayClient:
    """GraphQL over POST to one Monday.com account.

    Waits out rate limits (`retry_in_seconds` / `Retry-After`) up to `max_rate_waits` times and
    retries 5xx/timeouts with bounded backoff (mutations only when they carry an
    Idempotency-Key, so a retry cannot create a second item). Never audits or touches models.
    """

    timeout = (5, 60)  # (connect, read) seconds
    max_rate_waits = 6
    max_wait_seconds = 120.0  # longer waits (the daily limit) are raised, not slept
    max_server_retries = 3
    backoff_base = 1.0
    backoff_cap = 20.0

    def __init__(
        self,
        *,
        token: str,
        api_url: str,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,  # default: waits.sleep
        api_version: str = API_VERSION,
        budget: BudgetTracker | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._token = token
        self.api_url = api_url
        self.api_version = api_version
        self._session = session or requests.Session()
        self._sleep = sleep or waits.sleep
        self._clock = clock
        self.budget = budget if budget is not None else BudgetTracker()
        self.last_complexity: dict | None = None
        self.stats = ClientStats()

    def __repr__(self) -> str:  # never show the token
        return f"MondayClient({self.api_url!r})"

    def execute(
        self, document: str, variables: dict | None = None, *, idempotency_key: str = ""
    ) -> dict:
        """Send one document; return its `data`. Raises the typed error of the first failure.

        Idempotent when the document is a query, or a mutation sent with an Idempotency-Key.
        """
        result = self.execute_partial(document, variables, idempotency_key=idempotency_key)
        if result.alias_errors:
            raise result.alias_errors[0]
        return result.data

    def execute_partial(
        self,
        document: str,
        variables: dict | None = None,
        *,
        idempotency_key: str = "",
        expected_complexity: int = 0,
    ) -> GraphQLResult:
        """Like execute, but errors of single aliases come back in the result, not raised.

        With `expected_complexity` (the batch builder's estimate), a request that would not fit
        in the budget Monday last reported waits for the window's reset instead of being sent
        to be refused with COMPLEXITY_BUDGET_EXHAUSTED.
        """
        is_mutation = document.lstrip().startswith("mutation")
        may_resend = not is_mutation or bool(idempotency_key)
        rate_waits = server_retries = 0
        while True:
            self._pace(expected_complexity)
            try:
                return self._send(document, variables or {}, idempotency_key)
            except RateLimited as err:
                if (
                    isinstance(err, DailyLimitExceeded)
                    or rate_waits >= self.max_rate_waits
                    or err.retry_after > self.max_wait_seconds
                ):
                    raise
                rate_waits += 1
                self.stats.rate_limit_waits += 1
                logger.warning(
                    "monday.request.rate_limited",
                    extra={"code": getattr(err, "code", ""), "retry_after": err.retry_after},
                )
                self._wait(err.retry_after)
            except MondayServerError as err:
                if not may_resend or server_retries >= self.max_server_retries:
                    raise
                server_retries += 1
                self.stats.server_retries += 1
                delay = min(self.backoff_cap, self.backoff_base * 2 ** (server_retries - 1))
                logger.warning(
                    "monday.request.retrying",
                    extra={"status": err.status, "attempt": server_retries, "delay": delay},
                )
                self._wait(delay)

    def _wait(self, seconds: float) -> None:
        self.stats.waited_seconds += seconds
        self._sleep(seconds)

    def _pace(self, expected: int) -> None:
        wait = self.budget.wait_for(expected, self._clock()) if expected > 0 else 0.0
        if 0 < wait <= self.max_wait_seconds:
            self.stats.budget_pauses += 1
            logger.info(
                "monday.budget.paused",
                extra={"wait": round(wait, 2), "expected": expected},
            )
            self._wait(wait)

    def _send(self, document: str, variables: dict, idempotency_key: str) -> GraphQLResult:
        headers = {
            "Authorization": self._token,
            "API-Version": self.api_version,
            "Content-Type": "application/json",
        }
        if idempotency_key:
            # Reference: https://developer.monday.com/api-reference/docs/idempotency
            # Unconfirmed: that answers refused for rate limits are not cached under the key; we
            # resend with the same key after a wait so a retry after a timeout is a replay.
            headers["Idempotency-Key"] = idempotency_key
        self.stats.requests += 1
        try:
            # Reference: https://developer.monday.com/api-reference/docs/basics
            response = self._session.post(
                self.api_url,
                json={"query": document, "variables": variables},
                headers=headers,
                timeout=self.timeout,
            )
        except requests.Timeout as exc:
            raise MondayServerError("Monday.com did not answer in time.") from exc
        except requests.RequestException as exc:
            raise MondayServerError("Monday.com could not be reached.") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        request_error, alias_errors = map_response(response.status_code, body, response.headers)
        if request_error is not None:
            raise request_error
        self._track(body.get("data") or {})
        return GraphQLResult(
            data=body.get("data") or {},
            alias_errors=tuple(alias_errors),
            replayed=response.headers.get("Idempotency-Replayed", "").lower() == "true",
        )

    def _track(self, data: dict) -> None:
        complexity = data.get("complexity")
        if not isinstance(complexity, dict):
            return
        self.last_complexity = complexity
        after, reset_in = complexity.get("after"), complexity.get("reset_in_x_seconds")
        if isinstance(after, int | float) and isinstance(reset_in, int | float):
            self.budget.remaining = int(after)
            self.budget.reset_at = self._clock() + float(reset_in)
        cost = int(complexity.get("query") or 0)
        self.stats.max_query_complexity = max(self.stats.max_query_complexity, cost)
        self.stats.total_complexity += cost


LIVE_API_URL = "https://api.monday.com/v2"


def default_api_url() -> str:
    """MONDAY_API_URL; in sandbox mode, unless it was set to something else, the local sandbox."""
    if settings.INTEGRATIONS_MODE == "sandbox" and settings.MONDAY_API_URL == LIVE_API_URL:
        return f"{settings.SANDBOX_URL}/monday/v2"
    return settings.MONDAY_API_URL


def for_connection(conn: MondayConnection, **kwargs: Any) -> MondayClient:
    """The one factory: a client for this connection's token and API URL (the one place where
    sandbox or live is decided for Monday.com)."""
    # Clients made for the same connection object share one budget tracker (see BudgetTracker).
    kwargs.setdefault("budget", conn.__dict__.setdefault("_monday_budget", BudgetTracker()))
    return MondayClient(token=conn.api_token, api_url=conn.api_url or default_api_url(), **kwargs)
