"""The per-company call budget shared by every process (RateBudget rows), and the 4xx ledger.

Exact counts calls per app per company (division): about 60 a minute and 5,000 a day, read from
the X-RateLimit-* headers (reference §4). It blocks the app for an hour after 10 answers
400/401/403/404 per endpoint per hour. Every worker, webhook job, poll and reference refresh
takes a slot here before calling, under a row lock, so together they slow down before the
minutely limit instead of hitting it.

Shared state: the budget of each (connection, division), minutely, daily, the 4xx ledger and
the endpoints that refused a filter of ours (refuses/record_refusal), lives only in its
RateBudget row (PostgreSQL); every slot is taken and every answer recorded under
select_for_update of that row. Nothing of it is cached in a process (a client also keeps the
refusals it met itself, bulk.py, which is all a client without a budget has).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.errors import RateLimited
from integrations.exact.dates import epoch_ms_to_utc
from integrations.models import RateBudget

logger = logging.getLogger(__name__)

# Calls kept back each minute for in-flight requests and other users of the same company.
MINUTELY_MARGIN = 2
# Calls kept back each day for webhooks and polls: low-priority work (reference data) stops here.
LOW_PRIORITY_DAILY_RESERVE = 0.2
DAILY_MARGIN = 5
# Exact blocks at 10 error answers per endpoint per hour; refuse to send at 8.
ERROR_LIMIT = 8
ERROR_WINDOW = timedelta(hours=1)
COUNTED_ERRORS = frozenset({400, 401, 403, 404})
# An endpoint that refused a filter is not asked again with it for this long (each refusal is
# a 400 toward the hourly block); after it the filter is tried once more, in case Exact changed.
REFUSAL_MEMORY = timedelta(days=7)
NO_DIVISION = 0  # the ledger row for calls without a division (current/Me)


class ErrorBudgetSpent(RateLimited):
    """8 of the 10 error answers Exact allows per endpoint per hour are spent: do not send."""


@dataclass(frozen=True)
class BudgetState:
    division: int
    minutely_limit: int
    minutely_remaining: int | None
    minutely_reset_at: datetime | None
    daily_limit: int
    daily_remaining: int | None
    daily_reset_at: datetime | None


def _header(headers: Any, name: str) -> int | None:
    value = headers.get(name) if headers is not None else None  # requests: case-insensitive
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


class SharedBudget:
    """RateBudget rows of one connection. Every read-modify-write runs under select_for_update."""

    def __init__(self, connection_id: int) -> None:
        self.connection_id = connection_id

    def _locked(self, division: int) -> RateBudget:
        qs = RateBudget.objects.select_for_update()
        try:
            return qs.get(connection_id=self.connection_id, division=division)
        except RateBudget.DoesNotExist:
            # Two processes may create it at once: the unique key keeps one row.
            RateBudget.objects.bulk_create(
                [RateBudget(connection_id=self.connection_id, division=division)],
                ignore_conflicts=True,
            )
            return qs.get(connection_id=self.connection_id, division=division)

    def acquire(self, division: int | None, endpoint: str, *, priority: str = "normal") -> float:
        """Take one call slot. Returns 0 when taken, else the seconds to wait before asking again.

        Raises ErrorBudgetSpent when the endpoint spent its error answers this hour, and
        RateLimited when the daily budget is gone (or low, for priority="low").
        """
        now = timezone.now()
        with transaction.atomic():
            row = self._locked(NO_DIVISION if division is None else division)
            self._check_errors(row, endpoint, now)
            if division is None:  # current/Me is not counted by Exact (reference §4.1)
                return 0.0
            self._expire_windows(row, now)
            self._check_daily(row, now, priority)
            if row.minutely_remaining is None:
                # A new window whose count we have not seen yet: assume the whole limit, with
                # the window ending at the next whole minute (Exact aligns them, §4.1).
                row.minutely_remaining = row.minutely_limit
                row.minutely_reset_at = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
            if row.minutely_remaining <= MINUTELY_MARGIN:
                wait = max((row.minutely_reset_at - now).total_seconds(), 0.0) + 1.0
                row.save(update_fields=["minutely_remaining", "minutely_reset_at", "updated_at"])
                return wait
            row.minutely_remaining -= 1
            if row.daily_remaining is not None:
                row.daily_remaining -= 1
            row.save()
            return 0.0

    def record_response(self, division: int | None, endpoint: str, status: int, headers) -> float:
        """Feed the budget from one answer; count error answers. Returns the wait after a 429."""
        now = timezone.now()
        with transaction.atomic():
            row = self._locked(NO_DIVISION if division is None else division)
            if status in COUNTED_ERRORS:
                self._count_error(row, endpoint, now)
            retry_after = 0.0
            if division is not None:
                self._expire_windows(row, now)
                self._apply_headers(row, headers)
                if status == 429:
                    retry_after = self._apply_429(row, headers, now)
            row.save()
            return retry_after

    def refuses(self, division: int | None, endpoint: str) -> bool:
        """Whether `endpoint` refused a filter of ours within REFUSAL_MEMORY (any process)."""
        row = RateBudget.objects.filter(
            connection_id=self.connection_id,
            division=NO_DIVISION if division is None else division,
        ).first()
        since = (row.refused_endpoints or {}).get(endpoint) if row else None
        return bool(since) and timezone.now() - datetime.fromisoformat(since) < REFUSAL_MEMORY

    def record_refusal(self, division: int | None, endpoint: str) -> None:
        """Remember that `endpoint` refused a filter of ours, for every process."""
        with transaction.atomic():
            row = self._locked(NO_DIVISION if division is None else division)
            row.refused_endpoints = {
                **(row.refused_endpoints or {}),
                endpoint: timezone.now().isoformat(),
            }
            row.save(update_fields=["refused_endpoints", "updated_at"])

    def state(self, division: int) -> BudgetState | None:
        row = RateBudget.objects.filter(connection_id=self.connection_id, division=division).first()
        if row is None:
            return None
        self._expire_windows(row, timezone.now())
        return BudgetState(
            division=division,
            minutely_limit=row.minutely_limit,
            minutely_remaining=row.minutely_remaining,
            minutely_reset_at=row.minutely_reset_at,
            daily_limit=row.daily_limit,
            daily_remaining=row.daily_remaining,
            daily_reset_at=row.daily_reset_at,
        )

    # --- the rules -----------------------------------------------------------------------

    @staticmethod
    def _expire_windows(row: RateBudget, now: datetime) -> None:
        if row.minutely_reset_at and now >= row.minutely_reset_at:
            row.minutely_remaining, row.minutely_reset_at = None, None
        if row.daily_reset_at and now >= row.daily_reset_at:
            row.daily_remaining, row.daily_reset_at = None, None

    @staticmethod
    def _check_daily(row: RateBudget, now: datetime, priority: str) -> None:
        if row.daily_remaining is None:
            return
        until = (row.daily_reset_at - now).total_seconds() if row.daily_reset_at else 3600.0
        if row.daily_remaining <= DAILY_MARGIN:
            raise RateLimited(
                "The daily Exact Online call budget of this division is used up.",
                hint="Work resumes automatically when Exact resets the daily limit.",
                retry_after=max(until, 1.0),
                division=row.division,
            )
        if priority == "low" and row.daily_remaining < row.daily_limit * LOW_PRIORITY_DAILY_RESERVE:
            raise RateLimited(
                "The daily Exact Online call budget of this division is low; "
                "low-priority work waits for the reset.",
                retry_after=max(until, 1.0),
                division=row.division,
            )

    @staticmethod
    def _check_errors(row: RateBudget, endpoint: str, now: datetime) -> None:
        entry = (row.error_counts or {}).get(endpoint)
        if not entry:
            return
        since = datetime.fromisoformat(entry["since"])
        if now - since >= ERROR_WINDOW:
            return
        if entry["count"] >= ERROR_LIMIT:
            raise ErrorBudgetSpent(
                f"Exact Online refused {entry['count']} calls to {endpoint} within the hour; "
                "no more calls are sent there until the hour is over.",
                hint="Check the error in the log; Exact blocks the app after 10.",
                retry_after=(since + ERROR_WINDOW - now).total_seconds(),
                endpoint=endpoint,
            )

    @staticmethod
    def _count_error(row: RateBudget, endpoint: str, now: datetime) -> None:
        counts = dict(row.error_counts or {})
        entry = counts.get(endpoint)
        if not entry or now - datetime.fromisoformat(entry["since"]) >= ERROR_WINDOW:
            entry = {"since": now.isoformat(), "count": 0}
        counts[endpoint] = {"since": entry["since"], "count": entry["count"] + 1}
        row.error_counts = counts

    @staticmethod
    def _apply_headers(row: RateBudget, headers) -> None:
        limit = _header(headers, "X-RateLimit-Minutely-Limit")
        remaining = _header(headers, "X-RateLimit-Minutely-Remaining")
        reset = epoch_ms_to_utc(headers.get("X-RateLimit-Minutely-Reset")) if headers else None
        if limit:
            row.minutely_limit = limit
        if remaining is not None:
            same_window = reset and row.minutely_reset_at and reset <= row.minutely_reset_at
            if same_window and row.minutely_remaining is not None:
                # Our own reservations may be ahead of Exact's count: never raise the number.
                row.minutely_remaining = min(row.minutely_remaining, remaining)
            else:
                row.minutely_remaining = remaining
            row.minutely_reset_at = reset or row.minutely_reset_at
        daily_limit = _header(headers, "X-RateLimit-Limit")
        daily_remaining = _header(headers, "X-RateLimit-Remaining")
        daily_reset = epoch_ms_to_utc(headers.get("X-RateLimit-Reset")) if headers else None
        if daily_limit:
            row.daily_limit = daily_limit
        if daily_remaining is not None and daily_limit:
            same_day = daily_reset and row.daily_reset_at and daily_reset <= row.daily_reset_at
            if same_day and row.daily_remaining is not None:
                row.daily_remaining = min(row.daily_remaining, daily_remaining)
            else:
                row.daily_remaining = daily_remaining
            row.daily_reset_at = daily_reset or row.daily_reset_at

    @staticmethod
    def _apply_429(row: RateBudget, headers, now: datetime) -> float:
        """A 429: the minutely limit when only minutely headers came back, else the daily one."""
        minutely_reset = epoch_ms_to_utc(headers.get("X-RateLimit-Minutely-Reset"))
        daily_remaining = _header(headers, "X-RateLimit-Remaining")
        daily_reset = epoch_ms_to_utc(headers.get("X-RateLimit-Reset"))
        if daily_remaining == 0 and daily_reset:
            row.daily_remaining, row.daily_reset_at = 0, daily_reset
            reset = daily_reset
        else:
            # Unconfirmed: Retry-After on 429 (reference §4.3); the reset header is used.
            reset = minutely_reset or now.replace(second=0, microsecond=0) + timedelta(minutes=1)
            row.minutely_remaining, row.minutely_reset_at = 0, reset
        return max((reset - now).total_seconds(), 0.0) + 1.0
