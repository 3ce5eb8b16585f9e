"""How a burst of webhook events is read from Exact Online, decided in one place with its numbers
named: how long a lone event waits for company (read_window) and whether the events are read
through the route's sync feed from its cursor or by key-batched filters (feed_is_cheaper)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta

from integrations.exact.bulk import REGULAR_PAGE
from integrations.exact.feeds import DOCUMENTS_PER_PAGE
from integrations.exact.ratelimit import BudgetState

# --- the read window: the day's calls (Exact allows about 5,000 a day per division) ------------
# While this share of the day's calls is left, an event is read at once (a normal day's lone
# event reaches the board within 2 s).
PLENTY_SHARE = 0.5
# The share kept back for the rest of the day: a busy day stays within 80% of the daily calls.
RESERVE_SHARE = 0.2
# What one coalesced read costs: 1 call through the feed, 2 by key (headers, then lines).
CALLS_PER_READ = 2
# The longest a lone event waits, so that webhook -> item stays within a minute with its write.
MAX_WINDOW = 40.0  # seconds
DAY_SECONDS = 86_400.0  # when Exact has not said when its day resets

# --- feed or key batches: calls each way -----------------------------------------------------
FEED_ROWS_PER_CALL = DOCUMENTS_PER_PAGE  # sync feeds answer 1,000 rows a call (reference §5.2)
KEYS_PER_CALL = REGULAR_PAGE  # regular endpoints answer 60 rows a call (reference §3.2)
# Bulk lines endpoints answer 1,000 rows a call: a key batch is bounded by Exact's URL limit,
# about 80 GUIDs once encoded (ExactClient.fits_url_limit decides; this is the estimate).
KEYS_PER_URL = 75
LINES_PER_DOCUMENT = 3  # an invoice or order has 1 to 10 lines, about 3


def read_window(state: BudgetState | None, now: datetime) -> float:
    """Seconds an event waits for others of its division and entity before they are read
    together; 0 = read at once.

    0 while at least PLENTY_SHARE of the division's daily calls are left (or nothing is known
    yet). Below that, reads are spaced so that the calls left above RESERVE_SHARE last until
    Exact resets the day: seconds to the reset x CALLS_PER_READ / calls left above the reserve,
    at most MAX_WINDOW (and MAX_WINDOW once only the reserve is left).
    """
    if state is None or state.daily_remaining is None or not state.daily_limit:
        return 0.0
    until_reset = (state.daily_reset_at - now).total_seconds() if state.daily_reset_at else 0.0
    return _spacing(state.daily_remaining, state.daily_limit, until_reset, CALLS_PER_READ)


def monday_window(calls_today: int, limit: int | None, now: datetime) -> float:
    """The same rule for Monday.com's daily call limit of the account (its plan's, when the
    admin set MONDAY_DAILY_CALL_LIMIT): one write a read, the day ending at midnight UTC
    (unconfirmed, as shared_budget says). Without a known limit: 0."""
    if not limit:
        return 0.0
    midnight = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(), UTC)
    return _spacing(limit - calls_today, limit, (midnight - now).total_seconds(), 1)


def _spacing(left: int, limit: int, until_reset: float, per_read: int) -> float:
    if left >= limit * PLENTY_SHARE:
        return 0.0
    spare = left - limit * RESERVE_SHARE
    if spare <= 0:
        return MAX_WINDOW
    if until_reset <= 0:
        until_reset = DAY_SECONDS
    return min(MAX_WINDOW, until_reset * per_read / spare)


def key_batch_calls(
    documents: int, lines: float = LINES_PER_DOCUMENT, *, bulk_lines: bool = False
) -> int:
    """Calls to read these documents by key: headers 60 keys a call, then their lines 60 rows
    a call, or, from a bulk lines endpoint, as many keys a call as the URL holds."""
    if documents <= 0:
        return 0
    if bulk_lines:
        line_calls = math.ceil(documents / KEYS_PER_URL)
    else:
        line_calls = math.ceil(documents * lines / KEYS_PER_CALL)
    return math.ceil(documents / KEYS_PER_CALL) + line_calls


def feed_calls(documents: int, lines: float = LINES_PER_DOCUMENT) -> int:
    """Calls to read a combined sync feed holding these documents (a header row and a row per
    line each): 1,000 rows a call, and the feed's end is seen on a page that is not full."""
    rows = documents * (1 + lines)
    return math.floor(rows / FEED_ROWS_PER_CALL) + 1


def feed_is_cheaper(events: int, feed_documents: int | None, *, bulk_lines: bool = False) -> bool:
    """Whether reading the route's feed from its cursor (holding about `feed_documents`
    documents, the events' ones among them) costs fewer calls than reading the `events`' keys
    by batch. None = the feed cannot be read from a cursor now: key batches."""
    if feed_documents is None or events <= 0:
        return False
    by_key = key_batch_calls(events, bulk_lines=bulk_lines)
    return feed_calls(max(feed_documents, events)) < by_key
