"""Exact Online's rate limits and error budget, on the sandbox clock (reference §4).

Per division: 60 calls per clock minute and 5,000 per day (UTC day, unconfirmed), with the
X-RateLimit-* headers of §4.2; a minutely 429 carries only the minutely headers (§4.3).
Error budget: 10 answers with 400/401/403/404 per endpoint and division within an hour block
that endpoint for an hour. Each limit has a name (LIMITS) by which a test may switch it off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

ERROR_STATUSES = {400, 401, 403, 404}
# The names ExactSandbox(limits_off=...) accepts; "early_refresh" is TokenAuthority's 570 s rule.
LIMITS = frozenset({"minutely", "daily", "error_budget", "early_refresh"})


def _ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


@dataclass
class _Window:
    minute: datetime | None = None
    minute_count: int = 0
    day: datetime | None = None
    day_count: int = 0


@dataclass
class RateLimiter:
    minutely_limit: int = 60
    daily_limit: int = 5000
    windows: dict[int, _Window] = field(default_factory=dict)
    minutely: bool = True  # off: never refused, and no minutely headers (as if no such limit)
    daily: bool = True

    def take(self, division: int, now: datetime) -> tuple[bool, dict[str, str]]:
        """Count one call; (allowed, headers). Refused calls are not counted."""
        w = self.windows.setdefault(division, _Window())
        minute = now.replace(second=0, microsecond=0)
        day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        if w.minute != minute:
            w.minute, w.minute_count = minute, 0
        if w.day != day:
            w.day, w.day_count = day, 0
        minute_reset = _ms(minute + timedelta(minutes=1))
        day_reset = _ms(day + timedelta(days=1))
        if self.daily and w.day_count >= self.daily_limit:
            # Unconfirmed (§4.3): which minutely values accompany a daily 429.
            return False, {
                "X-RateLimit-Limit": str(self.daily_limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": day_reset,
            }
        if self.minutely and w.minute_count >= self.minutely_limit:
            return False, {
                "X-RateLimit-Minutely-Limit": str(self.minutely_limit),
                "X-RateLimit-Minutely-Remaining": "0",
                "X-RateLimit-Minutely-Reset": minute_reset,
            }
        w.minute_count += 1
        w.day_count += 1
        headers = {}
        if self.daily:
            headers["X-RateLimit-Limit"] = str(self.daily_limit)
            headers["X-RateLimit-Remaining"] = str(self.daily_limit - w.day_count)
            headers["X-RateLimit-Reset"] = day_reset
        if self.minutely:
            headers["X-RateLimit-Minutely-Limit"] = str(self.minutely_limit)
            headers["X-RateLimit-Minutely-Remaining"] = str(self.minutely_limit - w.minute_count)
            headers["X-RateLimit-Minutely-Reset"] = minute_reset
        return True, headers


@dataclass
class ErrorBudget:
    limit: int = 10
    window: timedelta = timedelta(hours=1)
    errors: dict[tuple, list[datetime]] = field(default_factory=dict)
    blocked: dict[tuple, datetime] = field(default_factory=dict)
    enabled: bool = True  # off: errors are neither counted nor ever block

    def blocked_until(self, key: tuple, now: datetime) -> datetime | None:
        if not self.enabled:
            return None
        until = self.blocked.get(key)
        if until is None:
            return None
        if now >= until:
            del self.blocked[key]
            self.errors.pop(key, None)
            return None
        return until

    def record(self, key: tuple, status: int, now: datetime) -> None:
        if not self.enabled or status not in ERROR_STATUSES:
            return
        recent = [t for t in self.errors.get(key, []) if now - t < self.window]
        recent.append(now)
        self.errors[key] = recent
        if len(recent) >= self.limit:
            self.blocked[key] = now + self.window
