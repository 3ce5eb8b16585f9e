"""The complexity budget as Monday reports it, and the client's counters; the client paces its
requests from it (reference monday.md Limits).

A budget offers reserve / record / refused / failed. BudgetTracker keeps it in this process
(for clients built without a saved connection); shared_budget.SharedMondayBudget keeps it in
the database, shared by every process using the token."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class ClientStats:
    requests: int = 0
    max_query_complexity: int = 0
    total_complexity: int = 0
    rate_limit_waits: int = 0
    server_retries: int = 0
    waited_seconds: float = 0.0
    budget_pauses: int = 0


@dataclass(frozen=True)
class Reservation:
    """What reserve() answered: `wait` > 0 means nothing was reserved, ask again after it.
    `window` and `points` let the answer be settled against the window it was counted in."""

    wait: float = 0.0
    window: int = -1
    points: int = 0
    ref: str = ""  # its entry in the shared budget's ledger of requests in flight


@dataclass
class BudgetTracker:
    """What Monday last said about the per-minute complexity budget (`complexity.after` and
    `reset_in_x_seconds`), on the client's clock. Shared by the clients of one connection
    object, so a poll that makes a client per page still paces across pages."""

    remaining: int | None = None
    reset_at: float = 0.0
    # It reserves nothing, so asking again after a wait would tell nothing new: the client
    # waits once, then sends (a refusal is then waited out for the seconds Monday names).
    pace_once = True

    def wait_for(self, expected: int, now: float) -> float:
        """Seconds to wait before a request of `expected` points fits; 0 when it fits or
        when nothing is known (the window has reset, or no answer was seen yet)."""
        if self.remaining is None or now >= self.reset_at or self.remaining >= expected:
            return 0.0
        return self.reset_at - now

    # --- the budget interface the client calls (see SharedMondayBudget for the shared one) ---

    def reserve(self, expected: int, clock: Callable[[], float]) -> Reservation:
        return Reservation(wait=self.wait_for(expected, clock()) if expected > 0 else 0.0)

    def record(
        self, reservation: Reservation, complexity: dict, clock: Callable[[], float]
    ) -> None:
        now = clock()
        after, reset_in = complexity.get("after"), complexity.get("reset_in_x_seconds")
        if isinstance(after, int | float) and isinstance(reset_in, int | float):
            self.remaining = int(after)
            self.reset_at = now + float(reset_in)

    def refused(self, reservation: Reservation, err: Exception, clock: Callable[[], float]) -> None:
        """A rate-limit answer: this tracker learns nothing from it (the client waits it out)."""

    def failed(self, reservation: Reservation, clock: Callable[[], float]) -> None:
        """No answer to read (5xx, timeout, another error)."""
