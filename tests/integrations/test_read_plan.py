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
    # From a bulk lines endpoint, lines cost a call per URL-full of keys, whatever their count.
    assert read_plan.key_batch_calls(500, lines=3, bulk_lines=True) == 9 + 7
    assert read_plan.feed_is_cheaper(1, 5, bulk_lines=True)
    # 120 events, a feed of 900 documents (4 calls): 8 calls by key on regular pages, 4 on bulk.
    assert read_plan.feed_is_cheaper(120, 900)
    assert not read_plan.feed_is_cheaper(120, 900, bulk_lines=True)
    assert read_plan.feed_calls(500, lines=3) == 3  # 2,000 rows: two full pages and the end
    assert read_plan.feed_is_cheaper(500, 520)
    assert read_plan.feed_is_cheaper(1, 5)  # one call of the feed against headers + lines
    assert not read_plan.feed_is_cheaper(1, 600)  # a feed far behind: read the key instead
    assert not read_plan.feed_is_cheaper(50, None)  # no usable cursor


def test_monday_window_spaces_writes_when_the_accounts_daily_calls_run_short():
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # 12 h to Monday's midnight-UTC reset
    assert read_plan.monday_window(9_000, None, now) == 0  # no plan limit set: never waits
    assert read_plan.monday_window(400, 1_000, now) == 0  # more than half left
    # 450 left, 200 kept back: 250 writes spread over 43,200 s would be 173 s; capped.
    assert read_plan.monday_window(550, 1_000, now) == read_plan.MAX_WINDOW
    # A Pro account (10,000 a day) with 4,000 left: 2,000 spare over 12 h is 21.6 s a write.
    assert read_plan.monday_window(6_000, 10_000, now) == pytest.approx(21.6)
    assert read_plan.monday_window(8_500, 10_000, now) == read_plan.MAX_WINDOW  # reserve only
