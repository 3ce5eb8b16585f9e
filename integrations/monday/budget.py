"""The complexity budget as Monday reports it, and the client's counters; the client paces its
requests from it (reference monday.md Limits)."""

from __future__ import annotations

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
