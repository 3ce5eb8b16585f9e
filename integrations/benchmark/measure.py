"""Small measuring tools shared by the benchmark phases: timers, percentiles, API-call counts."""

from __future__ import annotations

import resource
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import transaction

from integrations.benchmark.load_client import percentile  # noqa: F401 - one percentile rule
from integrations.sandbox.monday_complexity import Window

MONDAY_QUERY_CEILING = 5_000_000  # complexity points allowed in one request
MONDAY_MINUTE_BUDGET = 10_000_000  # complexity points a minute (personal token)
REFUSALS = frozenset(
    {"COMPLEXITY_BUDGET_EXHAUSTED", "RATE_LIMIT_EXCEEDED", "REQUEST_MAX_COMPLEXITY_EXCEEDED"}
)


def peak_rss_mb() -> float:
    """The process's peak resident set so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Timer:
    """Wall time, process CPU and the calling thread's CPU over a block.

    The sandboxes answer from their own server threads, so `thread_cpu` is the app's share
    (ORM, item building, HTTP client) and `cpu` includes the in-process sandboxes.
    """

    wall: float = 0.0
    cpu: float = 0.0
    thread_cpu: float = 0.0
    rss_before_mb: float = 0.0
    rss_after_mb: float = 0.0
    _start: tuple = field(default=(), repr=False)

    def __enter__(self) -> Timer:
        self.rss_before_mb = peak_rss_mb()
        self._start = (time.perf_counter(), time.process_time(), time.thread_time())
        return self

    def __exit__(self, *exc) -> None:
        wall, cpu, thread_cpu = self._start
        self.wall = time.perf_counter() - wall
        self.cpu = time.process_time() - cpu
        self.thread_cpu = time.thread_time() - thread_cpu
        self.rss_after_mb = peak_rss_mb()


def per_1000(count: int, records: int) -> float:
    return round(count * 1000 / records, 2) if records else 0.0


def monday_figures(requests: list[dict]) -> dict:
    """Requests, complexity and refusals from MondaySandbox.requests entries."""
    complexities = [r["complexity"] for r in requests]
    codes = [c for r in requests for c in r.get("error_codes") or [] if c]
    largest = max(complexities, default=0)
    # A request refused for a limit was priced but not charged.
    charged = [
        r["complexity"]
        for r in requests
        if r.get("status") == 200 and not REFUSALS.intersection(r.get("error_codes") or ())
    ]
    return {
        "requests": len(requests),
        "mutation_requests": sum(1 for r in requests if r.get("mutations")),
        "total_complexity": sum(charged),
        "max_request_complexity": largest,
        "max_request_share_of_ceiling": round(largest / MONDAY_QUERY_CEILING, 4),
        "budget_exhausted_errors": codes.count("COMPLEXITY_BUDGET_EXHAUSTED"),
        # Requests Monday refused for a limit (budget, rate, size): pacing should leave none.
        "refused": sum(1 for r in requests if REFUSALS.intersection(r.get("error_codes") or ())),
        "error_codes": sorted(set(codes)),
    }


@contextmanager
def rolled_back():
    """Everything written inside is rolled back at the end: the user's data stays untouched."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


class BudgetCharges:
    """Records each charge of the sandbox's budget window with the window it went into."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.by_window: dict[float, int] = {}
        real = Window.charge

        def charge(window: Window, now: float, amount: int) -> None:
            real(window, now, amount)
            if window.limit == budget:  # not the requests-per-minute window
                key = window.started_at
                self.by_window[key] = self.by_window.get(key, 0) + amount

        self.charge = charge

    def shares(self) -> list[float]:
        return [self.by_window[k] / self.budget for k in sorted(self.by_window)]
