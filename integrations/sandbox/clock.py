"""A controllable clock shared by the sandboxes, so tests can move time without sleeping."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Aware-UTC time that tests control.

    Frozen (the default) it stands still until `advance()` moves it. With `frozen=False` it
    follows real time from `start`, scaled by `speed`, and `advance()` still adds jumps.
    """

    def __init__(
        self, start: datetime | None = None, *, frozen: bool = True, speed: float = 1.0
    ) -> None:
        if start is None:
            start = datetime.now(UTC)
        elif start.tzinfo is None:
            raise ValueError("SandboxClock needs an aware start time.")
        self._lock = threading.Lock()
        self._start = start.astimezone(UTC)
        self._offset = 0.0
        self._frozen = frozen
        self._speed = speed
        self._real_start = time.monotonic()

    def now(self) -> datetime:
        with self._lock:
            elapsed = self._offset
            if not self._frozen:
                elapsed += (time.monotonic() - self._real_start) * self._speed
            return self._start + timedelta(seconds=elapsed)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def timestamp(self) -> float:
        """Seconds since the epoch, for window arithmetic."""
        return self.now().timestamp()
