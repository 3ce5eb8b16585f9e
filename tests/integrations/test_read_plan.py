"""The rules of sync/read_plan.py: the read window from the day's calls left, and feed or keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from integrations.exact.ratelimit import BudgetState
from integrations.sync import read_plan

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def budget(left: int | None, *, limit: int = 5000, reset_in_hours: float = 12) -> BudgetState:
    return BudgetState(
        division=101,
        minutely_limit=60,
        minutely_remaining=None,
        minutely_reset_at=None,
        daily_limit=limit,
        daily_remaining=left,
        daily_reset_at=NOW + timedelta(hours=reset_in_hours),
    )


def test_events_are_read_at_once_while_half_the_days_calls_are_left():
    assert read_plan.read_window(None, NOW) == 0  # nothing known yet
    assert read_plan.read_window(budget(None), NOW) == 0
    assert read_plan.read_window(budget(5000), NOW) == 0
    assert read_plan.read_window(budget(2500), NOW) == 0


def test_below_half_the_reads_are_spaced_so_the_calls_above_the_reserve_last_the_day():
    # 1,000 calls kept back; 1,400 left: 400 to spend over the 1 h to the reset, 2 a read.
    assert read_plan.read_window(budget(1400, reset_in_hours=1), NOW) == pytest.approx(18.0)
    # The same calls over 12 h would mean waiting minutes: at most MAX_WINDOW.
    assert read_plan.read_window(budget(1400), NOW) == read_plan.MAX_WINDOW
    # Fewer calls left, longer windows; only the reserve left: the longest.
    shorter = read_plan.read_window(budget(2400, reset_in_hours=1), NOW)
    assert 0 < shorter < read_plan.read_window(budget(1400, reset_in_hours=1), NOW)
    assert read_plan.read_window(budget(900, reset_in_hours=1), NOW) == read_plan.MAX_WINDOW


def test_the_feed_is_read_when_it_costs_fewer_calls_than_key_batches():
    assert read_plan.key_batch_calls(500, lines=3) == 9 + 25
    assert read_plan.feed_calls(500, lines=3) == 3  # 2,000 rows: two full pages and the end
    assert read_plan.feed_is_cheaper(500, 520)
    assert read_plan.feed_is_cheaper(1, 5)  # one call of the feed against headers + lines
    assert not read_plan.feed_is_cheaper(1, 600)  # a feed far behind: read the key instead
    assert not read_plan.feed_is_cheaper(50, None)  # no usable cursor
