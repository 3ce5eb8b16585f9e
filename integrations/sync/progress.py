"""A sync run's progress in plain words, and its time left estimated from the budgets.

Pure functions over numbers (sync/runs.py reads the run and the budget rows): unit-tested.

How the time left is estimated: the work still to do is turned into what it costs, and the
budgets say how long that takes.
- Exact Online: the sync feed gives 1,000 rows a call and a document takes `rows_per_document`
  rows (measured in this run; 4 until the first batch), so `remaining` documents need that many
  calls; they fit in the calls left this minute, then 60 a minute (the division's limit). When
  they need more than are left today, nothing moves until the daily limit resets.
- Monday.com: each new item is one mutation of about 30,000 complexity points (the batch
  builder's estimate, monday/batching.py), plus one per line when lines go out as subitems;
  they fit in the points left in this window, then 10,000,000 a minute (the budget learned).
- What this run actually managed (documents a second of working time) counts too: the
  estimate is the longest of the three, so it never promises more than either budget allows
  nor more than the run has shown it can do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FEED_ROWS_PER_CALL = 1000
DEFAULT_ROWS_PER_DOCUMENT = 4  # a header and three lines, until the run has measured it
WINDOW_SECONDS = 60.0
DEFAULT_MONDAY_POINTS_PER_MINUTE = 10_000_000


@dataclass(frozen=True)
class Budgets:
    """What the budgets hold right now (None where nothing is known yet: a fresh window)."""

    exact_minute_left: int | None = None
    exact_minute_limit: int = 60
    exact_minute_reset_in: float = WINDOW_SECONDS
    exact_day_left: int | None = None
    exact_day_reset_in: float | None = None
    monday_points_left: int | None = None
    monday_points_limit: int | None = None
    monday_reset_in: float = WINDOW_SECONDS
    monday_blocked_for: float = 0.0  # Monday's daily call limit is spent for this long


@dataclass(frozen=True)
class Estimate:
    seconds: float
    waits_for: str = ""  # a budget that holds the run back for long, in words


def _window_time(need: float, left: int | None, limit: int, reset_in: float) -> float:
    """Seconds until `need` units have been granted by a budget of `limit` a minute."""
    left = limit if left is None else max(left, 0)
    if need <= left:
        return 0.0
    windows = math.ceil((need - left) / max(limit, 1))
    return max(reset_in, 0.0) + (windows - 1) * WINDOW_SECONDS


def estimate_seconds_left(
    remaining: int,
    *,
    budgets: Budgets,
    rows_per_document: float | None,
    points_per_document: int,
    documents_per_second: float | None,
) -> Estimate:
    """The time the remaining documents take: the longest of Exact's calls, Monday's points and
    the pace this run has shown (module docstring)."""
    if remaining <= 0:
        return Estimate(0.0)
    rows = rows_per_document or DEFAULT_ROWS_PER_DOCUMENT
    calls = math.ceil(remaining * rows / FEED_ROWS_PER_CALL)
    exact = _window_time(
        calls, budgets.exact_minute_left, budgets.exact_minute_limit, budgets.exact_minute_reset_in
    )
    waits_for = ""
    if budgets.exact_day_left is not None and calls > budgets.exact_day_left:
        exact = max(exact, budgets.exact_day_reset_in or 0.0)
        waits_for = "Exact Online's daily call limit"
    monday = _window_time(
        remaining * points_per_document,
        budgets.monday_points_left,
        budgets.monday_points_limit or DEFAULT_MONDAY_POINTS_PER_MINUTE,
        budgets.monday_reset_in,
    )
    if budgets.monday_blocked_for > 0:
        monday += budgets.monday_blocked_for
        waits_for = waits_for or "Monday.com's daily call limit"
    pace = remaining / documents_per_second if documents_per_second else 0.0
    return Estimate(max(exact, monday, pace), waits_for)


def duration_words(seconds: float) -> str:
    """ "less than a minute", "about 12 minutes", "about 1 hour 20 minutes"."""
    minutes = math.ceil(seconds / 60)
    if minutes <= 1:
        return "less than a minute" if seconds < 45 else "about a minute"
    if minutes < 60:
        return f"about {minutes} minutes"
    hours, rest = divmod(minutes, 60)
    hours_text = "1 hour" if hours == 1 else f"{hours} hours"
    if rest < 5:
        return f"about {hours_text}"
    return f"about {hours_text} {rest} minutes"


def count_words(n: int, singular: str, plural: str) -> str:
    return f"{n:,} {singular if n == 1 else plural}"


@dataclass(frozen=True)
class Counts:
    read: int
    on_board: int  # written or already current: the item is on the board
    flagged: int
    failed: int
    expected: int | None


def percent_done(counts: Counts, *, finished: bool) -> int | None:
    """0-100, or None without a total. 100 only once the run is over (the total is an estimate:
    more documents can turn up than were counted)."""
    if finished:
        return 100
    if not counts.expected:
        return None
    return min(99, math.floor(100 * counts.read / counts.expected))


def remaining_documents(counts: Counts) -> int | None:
    if counts.expected is None:
        return None
    return max(counts.expected - counts.read, 0)


def progress_sentence(counts: Counts, singular: str, plural: str, *, finished: bool) -> str:
    """ "1,240 of 10,000 sales invoices read, 1,240 on the board (40 of them flagged for
    review)"; without a total (or past it: the total is an estimate) "1,240 sales invoices
    read so far, …"; once finished "1,240 sales invoices read, …"."""
    within = counts.expected is not None and counts.read <= counts.expected
    if within and not finished:
        head = f"{counts.read:,} of {count_words(counts.expected, singular, plural)} read"
    else:
        head = f"{count_words(counts.read, singular, plural)} read"
        head += "" if finished else " so far"
    text = f"{head}, {counts.on_board:,} on the board"
    if counts.flagged:
        text += f" ({counts.flagged:,} of them flagged for review)"
    if counts.failed:
        text += f", {counts.failed:,} could not be written"
    return text


def rate_words(documents_per_second: float | None, plural: str) -> str:
    if not documents_per_second:
        return ""
    per_minute = documents_per_second * 60
    if per_minute >= 1:
        return f"about {round(per_minute):,} {plural} a minute"
    return f"about {round(per_minute * 60):,} {plural} an hour"
