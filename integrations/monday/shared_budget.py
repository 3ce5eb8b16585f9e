"""One Monday budget per token, shared by every process: MondayBudget rows, each read-modify-write
in a short transaction under select_for_update (like exact/ratelimit.py for Exact).

Monday gives a token 10,000,000 complexity points a minute (personal tokens; reference
monday.md "Limits"), the window resetting 60 s after its first call, and each answer reports
`complexity { before after query reset_in_x_seconds }`. A worker reserves the expected points
of its request here before sending it and waits for the window's reset when they do not fit;
the answer trues the reservation up to what Monday charged. Each reservation is kept in a
ledger with a deadline: a worker killed mid-request never trues its reservation up, so after
RESERVATION_TTL its points come back instead of staying counted. Every call is also counted against
the plan's daily call limit (settings.MONDAY_DAILY_CALL_LIMIT, off by default).

Monday writes happen inside the pipeline's transaction (row locks on the synced records), so
on PostgreSQL this module uses a connection of its own: its locks end with its own short
transaction and other workers see its reservations at once, not when the caller commits.

Shared state: the window, reservations and daily calls of each token live only in its
MondayBudget row (PostgreSQL). The one process-local budget left is monday/budget.py's
BudgetTracker, used only for a connection not yet saved (checking a token before it is stored:
one request).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction

from integrations.models import MondayBudget
from integrations.monday.budget import Reservation
from integrations.monday.client import MondayClient
from integrations.monday.errors import BudgetExhausted, DailyLimitExceeded
from integrations.side_connections import SideConnection

WINDOW_SECONDS = 60.0
# Our clock and Monday's differ by the answer's latency and reset_in_x_seconds is whole seconds:
# wait this much past the reset we computed.
RESET_MARGIN = 0.5
# An answer whose reset lies more than half a window from the one we know is of another window.
HALF_WINDOW = WINDOW_SECONDS / 2
# A reservation not trued up by then belongs to a worker that died mid-request: no request of
# ours lasts longer than the client's connect + read timeouts, and a few seconds' margin.
RESERVATION_TTL = float(sum(MondayClient.timeout)) + 10.0

_side = SideConnection("monday_budget")


def close_budget_connection() -> None:
    _side.close()


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _next_midnight(now: float) -> float:
    # Unconfirmed: when Monday resets the daily call count; midnight UTC as the sandbox does.
    day = _at(now).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


class SharedMondayBudget:
    """The budget of one MondayConnection. `clock` gives seconds since the epoch (time.time);
    it is read once the row is locked, as a worker may wait for the lock while time passes."""

    pace_once = False  # after a wait, reserve again: others may have taken the window

    def __init__(self, connection_id: int, *, daily_limit: int | None = None) -> None:
        self.connection_id = connection_id
        self.daily_limit = daily_limit

    def _locked(self, alias: str) -> MondayBudget:
        qs = MondayBudget.objects.using(alias).select_for_update()
        row = qs.filter(connection_id=self.connection_id).first()
        if row is None:
            # Two processes may create it at once: the unique key keeps one row.
            MondayBudget.objects.using(alias).bulk_create(
                [MondayBudget(connection_id=self.connection_id)], ignore_conflicts=True
            )
            row = qs.get(connection_id=self.connection_id)
        return row

    def reserve(self, expected: int, clock: Callable[[], float]) -> Reservation:
        """Reserve `expected` points and count one call. Returns a Reservation; its `wait` > 0
        means the points do not fit before the window resets (nothing was reserved).

        Raises DailyLimitExceeded when the day's calls are spent (ours or Monday's count).
        """
        alias = _side.alias()
        with transaction.atomic(using=alias):
            row = self._locked(alias)
            now = clock()
            self._roll(row, now)
            refusal = self._daily_refusal(row, now)
            if refusal is None:
                reservation = self._take(row, expected, now)
            row.save(using=alias)
        if refusal is not None:
            raise refusal
        return reservation

    def record(
        self, reservation: Reservation, complexity: dict, clock: Callable[[], float]
    ) -> None:
        """True the reservation up from the answer's `complexity`."""
        after, before = complexity.get("after"), complexity.get("before")
        reset_in, cost = complexity.get("reset_in_x_seconds"), complexity.get("query")
        if not all(isinstance(v, int | float) for v in (after, reset_in)):
            self.failed(reservation, clock)
            return
        cost = int(cost) if isinstance(cost, int | float) else 0
        alias = _side.alias()
        with transaction.atomic(using=alias):
            row = self._locked(alias)
            now = clock()
            self._roll(row, now)
            counted = self._settle(row, reservation)
            if isinstance(before, int | float):
                row.limit = max(row.limit or 0, int(before))
            self._apply_answer(row, counted, reservation.points, int(after), cost, now + reset_in)
            row.save(using=alias)

    def refused(self, reservation: Reservation, err: Exception, clock: Callable[[], float]) -> None:
        """A rate-limit answer: every worker waits as long as Monday said."""
        alias = _side.alias()
        with transaction.atomic(using=alias):
            row = self._locked(alias)
            now = clock()
            self._roll(row, now)
            self._settle(row, reservation)
            until = now + float(getattr(err, "retry_after", 0) or 0)
            if isinstance(err, BudgetExhausted):
                row.remaining = 0
                row.reset_at = _at(max(until, now + 1))
            elif isinstance(err, DailyLimitExceeded):
                row.daily_blocked_until = _at(max(until, now + 1))
            row.save(using=alias)

    def failed(self, reservation: Reservation, clock: Callable[[], float]) -> None:
        """No answer to read: the reservation is no longer in flight. Its points are not given
        back; Monday may have charged them."""
        if reservation.points <= 0 and reservation.window < 0:
            return
        alias = _side.alias()
        with transaction.atomic(using=alias):
            row = self._locked(alias)
            now = clock()
            self._roll(row, now)
            self._settle(row, reservation)
            row.save(using=alias)

    # --- the rules -----------------------------------------------------------------------

    @staticmethod
    def _expire(row: MondayBudget, now: float) -> None:
        """Give back the points of reservations past their deadline (their worker died). Should
        the request answer after all, record() charges what Monday says it cost."""
        for ref, (points, window, deadline) in list((row.in_flight or {}).items()):
            if deadline > now:
                continue
            del row.in_flight[ref]
            if window == row.window:
                row.pending = max(row.pending - points, 0)
            else:
                row.carried = max(row.carried - points, 0)
            if row.remaining is not None:
                row.remaining += points

    @classmethod
    def _roll(cls, row: MondayBudget, now: float) -> None:
        """Start a new window once the known one has reset. Every reservation still in flight
        is carried into it (Monday may charge it there) until its deadline passes."""
        cls._expire(row, now)
        if row.daily_day != _at(now).date():
            row.daily_day, row.daily_calls = _at(now).date(), 0
        if row.daily_blocked_until and now >= row.daily_blocked_until.timestamp():
            row.daily_blocked_until = None
        if row.reset_at is None or now < row.reset_at.timestamp():
            return
        row.window += 1
        row.carried, row.pending = row.carried + row.pending, 0
        if row.limit:
            row.remaining = row.limit - row.carried
            row.reset_at = _at(now + WINDOW_SECONDS)
        else:  # the first answer of the window tells
            row.remaining, row.reset_at = None, None

    def _daily_refusal(self, row: MondayBudget, now: float) -> DailyLimitExceeded | None:
        if row.daily_blocked_until is None and (
            self.daily_limit is None or row.daily_calls < self.daily_limit
        ):
            return None
        until = _next_midnight(now)
        if row.daily_blocked_until is not None:
            until = row.daily_blocked_until.timestamp()
        row.daily_blocked_until = _at(until)
        return DailyLimitExceeded(
            f"Monday.com's daily call limit for this account is used up "
            f"({row.daily_calls} calls today). Writes resume automatically after "
            f"{_at(until):%H:%M} UTC; nothing is lost, the waiting documents are sent then.",
            code="DAILY_LIMIT_EXCEEDED",
            retry_after=max(until - now, 1.0),
        )

    @staticmethod
    def _take(row: MondayBudget, expected: int, now: float) -> Reservation:
        need = max(int(expected), 0)
        if row.limit:
            need = min(need, row.limit)  # a request bigger than the budget waits for a fresh one
        if row.remaining is not None and need > row.remaining:
            wait = max(row.reset_at.timestamp() - now, 0.0) if row.reset_at else WINDOW_SECONDS
            return Reservation(wait=wait + RESET_MARGIN)
        if row.remaining is not None:
            row.remaining -= need
        row.pending += need
        row.daily_calls += 1
        ref = ""
        if need:
            ref = uuid.uuid4().hex[:16]
            row.in_flight = {
                **(row.in_flight or {}),
                ref: [need, row.window, now + RESERVATION_TTL],
            }
        return Reservation(wait=0.0, window=row.window, points=need, ref=ref)

    @staticmethod
    def _settle(row: MondayBudget, reservation: Reservation) -> bool:
        """Take the reservation out of the in-flight points. True when it is counted in the
        current window's `remaining` (reserved in it, or carried into it: all are)."""
        if reservation.window < 0:
            return False
        if reservation.ref and (row.in_flight or {}).pop(reservation.ref, None) is None:
            return False  # expired: its points were given back then
        if reservation.window == row.window:
            row.pending = max(row.pending - reservation.points, 0)
            return True
        row.carried = max(row.carried - reservation.points, 0)
        return True

    @staticmethod
    def _apply_answer(
        row: MondayBudget, counted: bool, points: int, after: int, cost: int, answer_reset: float
    ) -> None:
        known = row.reset_at.timestamp() if row.reset_at else None
        in_flight = row.pending + row.carried
        if row.remaining is None or known is None or answer_reset - known > HALF_WINDOW:
            if known is not None and answer_reset - known > HALF_WINDOW:
                # Monday's window turned before ours did: the answer opens the new one.
                row.window += 1
                row.carried, row.pending = in_flight, 0
            row.remaining = after - in_flight
            row.reset_at = _at(answer_reset)
            return
        if known - answer_reset > HALF_WINDOW:
            # Charged in a window that is over: give back what this window held for it.
            if counted:
                row.remaining += points
            return
        row.remaining += (points if counted else 0) - cost
        # Monday's count is the truth for foreign use and costs we underestimated; our own
        # reservations in flight may be ahead of it, so never raise the number.
        row.remaining = min(row.remaining, after)
        row.reset_at = _at(max(known, answer_reset))

    def state(self) -> MondayBudget | None:
        return MondayBudget.objects.filter(connection_id=self.connection_id).first()


def budget_for(connection_id: int) -> SharedMondayBudget:
    return SharedMondayBudget(connection_id, daily_limit=settings.MONDAY_DAILY_CALL_LIMIT)
