"""MondayClient: the only code that POSTs GraphQL to Monday.com and turns its answers into errors."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import requests
from django.conf import settings

from integrations import waits
from integrations.api_calls import count_call
from integrations.errors import RateLimited
from integrations.monday.budget import BudgetTracker, ClientStats, Reservation
from integrations.monday.errors import (
    DailyLimitExceeded,
    MondayServerError,
)
from integrations.monday.responses import GraphQLResult, map_response

if TYPE_CHECKING:
    from integrations.models import MondayConnection

logger = logging.getLogger(__name__)

# Pinned API version. Every document in queries.py (and every batch) is validated against
# integrations/monday/schema.graphql, the SDL monday published for 2025-04 (see schema.SOURCE.txt).
# Reference: https://developer.monday.com/api-reference/docs/api-versioning
API_VERSION = "2025-04"


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
    max_budget_pauses = 10  # then the request goes out; a refusal is waited out like any other
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
        budget: Any = None,  # BudgetTracker (this process) or SharedMondayBudget (the token)
        clock: Callable[[], float] = time.monotonic,
        on_call: Callable[[int | str], None] | None = None,  # counts each call by status
    ):
        self.on_call = on_call
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
            reservation = self._pace(expected_complexity)
            try:
                return self._send(document, variables or {}, idempotency_key, reservation)
            except RateLimited as err:
                self.budget.refused(reservation, err, self._clock)
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
                self.budget.failed(reservation, self._clock)
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
            except BaseException:
                self.budget.failed(reservation, self._clock)
                raise

    def _wait(self, seconds: float) -> None:
        self.stats.waited_seconds += seconds
        self._sleep(seconds)

    def _pace(self, expected: int) -> Reservation:
        """Reserve the expected points (and one call of the day), waiting while they do not fit.
        Raises DailyLimitExceeded when the day's calls are spent."""
        for _ in range(self.max_budget_pauses):
            reservation = self.budget.reserve(expected, self._clock)
            wait = reservation.wait
            if wait <= 0 or wait > self.max_wait_seconds:
                return reservation
            self.stats.budget_pauses += 1
            logger.info(
                "monday.budget.paused",
                extra={"wait": round(wait, 2), "expected": expected},
            )
            self._wait(wait)
            if self.budget.pace_once:
                break
        return Reservation()

    def _send(
        self, document: str, variables: dict, idempotency_key: str, reservation: Reservation
    ) -> GraphQLResult:
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
            self._count("timeout")
            raise MondayServerError("Monday.com did not answer in time.") from exc
        except requests.RequestException as exc:
            self._count("unreachable")
            raise MondayServerError("Monday.com could not be reached.") from exc
        self._count(response.status_code)
        try:
            body = response.json()
        except ValueError:
            body = None
        request_error, alias_errors = map_response(response.status_code, body, response.headers)
        if request_error is not None:
            raise request_error
        self._track(body.get("data") or {}, reservation)
        return GraphQLResult(
            data=body.get("data") or {},
            alias_errors=tuple(alias_errors),
            replayed=response.headers.get("Idempotency-Replayed", "").lower() == "true",
        )

    def _count(self, status: int | str) -> None:
        if self.on_call is not None:
            self.on_call(status)

    def _track(self, data: dict, reservation: Reservation) -> None:
        complexity = data.get("complexity")
        if not isinstance(complexity, dict):
            self.budget.failed(reservation, self._clock)
            return
        self.last_complexity = complexity
        self.budget.record(reservation, complexity, self._clock)
        cost = int(complexity.get("query") or 0)
        self.stats.max_query_complexity = max(self.stats.max_query_complexity, cost)
        self.stats.total_complexity += cost


LIVE_API_URL = "https://api.monday.com/v2"


def close_budget_connection() -> None:
    """For threads that end: close their connection to the shared budget, if they opened one."""
    from integrations.monday.shared_budget import close_budget_connection as close

    close()


def default_api_url() -> str:
    """MONDAY_API_URL; in sandbox mode, unless it was set to something else, the local sandbox."""
    if settings.INTEGRATIONS_MODE == "sandbox" and settings.MONDAY_API_URL == LIVE_API_URL:
        return f"{settings.SANDBOX_URL}/monday/v2"
    return settings.MONDAY_API_URL


def for_connection(conn: MondayConnection, **kwargs: Any) -> MondayClient:
    """The one factory: a client for this connection's token and API URL (the one place where
    sandbox or live is decided for Monday.com)."""
    if conn.pk is not None:
        # One budget per token for every process, in the database; its windows are on the
        # wall clock every process shares (a test stack or the benchmark may pass its own).
        from integrations.monday.shared_budget import budget_for  # needs the database

        kwargs.setdefault("budget", budget_for(conn.pk))
        kwargs.setdefault("clock", time.time)
    else:
        # A connection not yet saved (checking a token): this process's own tracker, shared by
        # the clients made for the same connection object.
        kwargs.setdefault("budget", conn.__dict__.setdefault("_monday_budget", BudgetTracker()))
    kwargs.setdefault("on_call", lambda status: count_call("monday", status))
    return MondayClient(token=conn.api_token, api_url=conn.api_url or default_api_url(), **kwargs)
