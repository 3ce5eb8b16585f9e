"""Sync progress in numbers and words: the time left from the budgets and the pace, percent,
and the sentences people read (sync/progress.py, sync/run_status.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import MondayBudget, RateBudget, SyncRun
from integrations.sync import progress
from integrations.sync.progress import Budgets, Counts, estimate_seconds_left
from integrations.sync.run_status import run_status


def test_monday_points_bound_the_time_left_of_1000_new_items():
    # 1,000 items x 30,000 points = 30M points at 10M a minute: this window's 10M, then two
    # more windows after the reset in 60 s.
    estimate = estimate_seconds_left(
        1000,
        budgets=Budgets(),
        rows_per_document=4,
        points_per_document=30_000,
        documents_per_second=None,
    )
    assert estimate.seconds == 120
    assert estimate.waits_for == ""


def test_points_left_in_this_window_shorten_the_wait():
    budgets = Budgets(monday_points_left=0, monday_points_limit=10_000_000, monday_reset_in=15)
    estimate = estimate_seconds_left(
        300,
        budgets=budgets,
        rows_per_document=4,
        points_per_document=30_000,
        documents_per_second=None,
    )
    assert estimate.seconds == 15  # 9M points fit in the next window, which opens in 15 s


def test_exact_daily_limit_running_out_holds_the_run_until_it_resets():
    budgets = Budgets(exact_day_left=5, exact_day_reset_in=3 * 3600)
    estimate = estimate_seconds_left(
        10_000,
        budgets=budgets,
        rows_per_document=4,
        points_per_document=30_000,
        documents_per_second=None,
    )
    # 40 calls are needed and 5 are left today: nothing moves before the reset.
    assert estimate.seconds == 3 * 3600
    assert estimate.waits_for == "Exact Online's daily call limit"


def test_exact_minutely_limit_counts_when_documents_have_many_rows():
    # 500 documents of 300 rows: 150 calls at 60 a minute with 10 left now -> 3 more windows.
    budgets = Budgets(exact_minute_left=10, exact_minute_limit=60, exact_minute_reset_in=20)
    estimate = estimate_seconds_left(
        500,
        budgets=budgets,
        rows_per_document=300,
        points_per_document=1,
        documents_per_second=None,
    )
    assert estimate.seconds == 20 + 2 * 60


def test_the_pace_shown_counts_when_slower_than_the_budgets():
    estimate = estimate_seconds_left(
        600,
        budgets=Budgets(),
        rows_per_document=4,
        points_per_document=30_000,
        documents_per_second=1.0,
    )
    assert estimate.seconds == 600


def test_nothing_remaining_takes_no_time():
    assert (
        estimate_seconds_left(
            0,
            budgets=Budgets(),
            rows_per_document=None,
            points_per_document=30_000,
            documents_per_second=None,
        ).seconds
        == 0
    )


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (20, "less than a minute"),
        (55, "about a minute"),
        (12 * 60, "about 12 minutes"),
        (11 * 60 + 1, "about 12 minutes"),
        (60 * 60, "about 1 hour"),
        (80 * 60, "about 1 hour 20 minutes"),
        (2 * 3600 + 120, "about 2 hours"),
    ],
)
def test_duration_in_words(seconds, words):
    assert progress.duration_words(seconds) == words


def test_progress_sentence_with_a_total():
    counts = Counts(read=1240, on_board=1240, flagged=40, failed=0, expected=10_000)
    assert progress.progress_sentence(
        counts, "sales invoice", "sales invoices", finished=False
    ) == ("1,240 of 10,000 sales invoices read, 1,240 on the board (40 of them flagged for review)")


def test_progress_sentence_without_a_total_says_so_far_and_counts_failures():
    counts = Counts(read=1, on_board=0, flagged=0, failed=1, expected=None)
    assert progress.progress_sentence(
        counts, "sales invoice", "sales invoices", finished=False
    ) == ("1 sales invoice read so far, 0 on the board, 1 could not be written")


def test_more_documents_than_counted_read_so_far_not_past_the_total():
    counts = Counts(read=1050, on_board=1050, flagged=0, failed=0, expected=1000)
    text = progress.progress_sentence(counts, "sales invoice", "sales invoices", finished=False)
    assert text.startswith("1,050 sales invoices read so far")
    assert progress.percent_done(counts, finished=False) == 99
    assert progress.remaining_documents(counts) == 0


def test_percent_reaches_100_only_when_the_run_is_finished():
    counts = Counts(read=1000, on_board=1000, flagged=0, failed=0, expected=1000)
    assert progress.percent_done(counts, finished=False) == 99
    assert progress.percent_done(counts, finished=True) == 100
    assert progress.percent_done(Counts(250, 250, 0, 0, 1000), finished=False) == 25
    assert progress.percent_done(Counts(250, 250, 0, 0, None), finished=False) is None


def _run(route, **kw):
    started = timezone.now() - timedelta(minutes=2)
    fields = dict(
        route=route,
        kind=SyncRun.Kind.BACKFILL,
        state=SyncRun.State.RUNNING,
        started_at=started,
        read=1240,
        written=1200,
        unchanged=40,
        flagged=40,
        expected=10_000,
        batches=13,
        feed_rows=4960,
    )
    fields.update(kw)
    return SyncRun.objects.create(**fields)


@pytest.mark.django_db
def test_running_status_reads_as_a_sentence_with_the_time_left_from_the_budgets(route):
    status = run_status(_run(route))
    # 8,760 left x 30,000 points at Monday's 10M a minute: this window, then 25 more (26
    # minutes); the pace shown (620 a minute) would promise 15, which Monday does not allow.
    assert status["headline"] == (
        "1,240 of 10,000 sales invoices read, 1,240 on the board (40 of them flagged for "
        "review); about 26 minutes left."
    )
    assert status["percent"] == 12 and status["remaining"] == 8760
    assert status["can_pause"] and not status["can_resume"]


@pytest.mark.django_db
def test_a_slower_pace_than_the_budgets_allow_sets_the_time_left(route):
    run = _run(route, started_at=timezone.now() - timedelta(minutes=30))
    # 1,240 in 30 minutes: 8,760 more take 212 minutes at that pace.
    assert "about 3 hours 32 minutes left" in run_status(run)["headline"]


@pytest.mark.django_db
def test_time_left_follows_the_stored_budgets(route):
    now = timezone.now()
    RateBudget.objects.create(
        connection=route.exact_connection,
        division=route.divisions.first().code,
        daily_remaining=3,
        daily_reset_at=now + timedelta(hours=5),
    )
    MondayBudget.objects.create(connection=route.monday_connection, limit=10_000_000)
    status = run_status(_run(route), now=now)
    assert (
        "about 5 hours left (waiting for Exact Online's daily call limit to reset)"
        in (status["headline"])
    )


@pytest.mark.django_db
def test_without_a_total_the_status_gives_the_rate_and_says_so(route):
    status = run_status(_run(route, expected=None))
    assert status["percent"] is None and status["remaining"] is None
    assert status["headline"] == (
        "1,240 sales invoices read so far, 1,240 on the board (40 of them flagged for review); "
        "about 620 sales invoices a minute; Exact Online gives no total for this sync."
    )


@pytest.mark.django_db
def test_done_status_says_when_and_how_long(route):
    run = _run(
        route,
        state=SyncRun.State.DONE,
        read=10_000,
        written=9960,
        unchanged=40,
        flagged=40,
        expected=10_000,
    )
    run.finished_at = run.started_at + timedelta(minutes=31)
    run.save()
    status = run_status(run)
    at = timezone.localtime(run.finished_at).strftime("%H:%M %Z")
    assert status["headline"] == (
        f"Done at {at} (took 31 minutes): 10,000 sales invoices read, 10,000 on the board "
        "(40 of them flagged for review)."
    )
    assert status["percent"] == 100 and not status["open"]


@pytest.mark.django_db
def test_paused_status_counts_no_paused_time_and_offers_resume(route):
    run = _run(route, state=SyncRun.State.PAUSED, paused_at=timezone.now())
    status = run_status(run)
    assert status["headline"].startswith("Paused: 1,240 of 10,000 sales invoices read")
    assert status["can_resume"] and not status["can_pause"]


class _CountingClient:
    def __init__(self, answer):
        self.answer, self.asked = answer, []

    def count_modified_since(self, entity, division, since):
        self.asked.append((entity, division, since))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.django_db
def test_expected_total_counts_from_the_backfill_date_then_from_the_last_poll(route):
    from datetime import date

    from integrations.models import PollCursor
    from integrations.sync.runs import expected_total

    route.backfill_from = date(2026, 1, 1)
    route.save()
    division = route.divisions.get().code
    client = _CountingClient(1200)
    assert expected_total(route, client) == 1200
    assert client.asked == [("sales_invoice", division, date(2026, 1, 1))]
    last = timezone.now() - timedelta(hours=1)
    PollCursor.objects.create(
        route=route, division=division, feed=route.entity, timestamp=500, last_success_at=last
    )
    client.asked.clear()
    expected_total(route, client)
    assert client.asked == [("sales_invoice", division, last)]


@pytest.mark.django_db
def test_without_a_count_from_exact_the_total_is_unknown(route):
    from integrations.errors import RemoteRejected
    from integrations.sync.runs import expected_total

    assert expected_total(route, _CountingClient(RemoteRejected("no count"))) is None
