"""The benchmark's simulated clock: the product, both sandboxes and the database rows' times
follow one clock, and every wait the product asks for (integrations.waits.sleep: a rate limit, a
Monday budget window, a backoff) moves that clock instead of passing real time. So a phase runs
with every limit on and waiting them out costs no wall time, while the figures in simulated time
(minutes a burst took, budget used per minute) stay true. Real time still passes on it too: the
work itself (CPU, latency) is counted, only the waiting is skipped.

Like tests/stack.py's SharedClock; time-machine is in the `dev` extra, which the benchmark needs.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from integrations import waits


class SimulatedClock:
    """Use as a context manager around a phase; build its sandboxes inside (their clocks, made
    with SandboxClock(frozen=False), then follow this one)."""

    # A wait still yields this much real time, so threads the product waits for go on.
    REAL_SHARE = 0.001

    def __init__(self, start: datetime | None = None) -> None:
        import time_machine  # the dev extra; only the benchmark and the tests use it

        self._travel = time_machine.travel(start or datetime.now(UTC), tick=True)
        self._lock = threading.Lock()
        self.waits: list[float] = []  # every wait the product asked for, in seconds

    def __enter__(self) -> SimulatedClock:
        self.traveller = self._travel.start()
        self._real_sleep, waits.sleep = waits.sleep, self.sleep
        return self

    def __exit__(self, *exc) -> None:
        waits.sleep = self._real_sleep
        self._travel.stop()

    def sleep(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)
        with self._lock:
            self.waits.append(seconds)
            self.traveller.shift(seconds)
        time.sleep(min(seconds, self.REAL_SHARE))

    def advance(self, seconds: float) -> None:
        """Time passes for everyone without anybody waiting (documents posted over a minute)."""
        with self._lock:
            self.traveller.shift(seconds)

    def to(self, moment: datetime) -> None:
        """Move on to `moment`; a clock already past it (processing took longer) stays."""
        ahead = moment.timestamp() - time.time()
        if ahead > 0:
            self.advance(ahead)

    @staticmethod
    def now() -> float:
        """Seconds since the epoch on the simulated clock."""
        return time.time()

    @property
    def waited_s(self) -> float:
        return round(sum(self.waits), 1)
