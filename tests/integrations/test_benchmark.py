"""`manage.py benchmark` at toy size, its verdicts, and the Monday client's budget pacing."""

from __future__ import annotations

import json

import pytest
import responses
from django.core.management import call_command

from integrations.benchmark import phase_report, report
from integrations.benchmark.budget import run_budget
from integrations.benchmark.latency import lost
from integrations.models import ExactConnection, SyncedRecord
from integrations.monday.budget import BudgetTracker
from integrations.monday.client import MondayClient

URL = "https://api.monday.test/v2"


@pytest.fixture
def quiet_backoff(monkeypatch):
    from integrations.exact.client import ExactClient

    monkeypatch.setattr(ExactClient, "backoff_base", 0.001)
    monkeypatch.setattr(MondayClient, "backoff_base", 0.001)


@pytest.mark.django_db
def test_a_small_run_writes_sane_figures_and_leaves_no_rows_behind(tmp_path, quiet_backoff):
    out = tmp_path / "bench.json"
    call_command(
        "benchmark",
        "--here",
        "--skip-webhooks",
        *("--n", "60", "--naive-n", "6", "--budget-n", "40", "--latency-ms", "0"),
        *("--day-n", "30", "--busy-day-n", "0", "--day-hours", "1"),
        *("--json", str(out)),
    )
    results = json.loads(out.read_text())
    day = results["normal_day"]
    # 30 webhooks over a simulated hour, each through the endpoint, the inbox and the worker.
    assert day["webhooks_posted"] == day["inbox_events"] == day["items_on_board"] == 30
    assert day["event_states"] == {"done": 30} and day["missing"] == day["failed_records"] == 0
    assert 0 <= day["p50_s"] <= day["p95_s"] <= day["max_s"] < 3600
    assert day["poll_runs"] == 4  # every 15 minutes of the hour
    assert day["exact_daily_share"] == round(day["exact_calls_answered"] / 5000, 4)
    assert day["exact_floor_calls"] == 1 + 2 * 4 < day["exact_calls_answered"]
    assert "busy_day" not in results and "workers" not in results
    b, naive, c = results["backfill"], results["naive"], results["comparison"]
    assert b["n"] == b["written"] == b["items_on_board"] == b["distinct_keys_on_board"] == 60
    # One sync page of 240 rows and one deleted-feed page.
    assert b["exact_calls"] == 2
    assert b["exact_calls_per_1000"] == pytest.approx(b["exact_calls"] * 1000 / 60, abs=0.01)
    assert b["monday_requests_per_1000"] == pytest.approx(
        b["monday_requests"] * 1000 / 60, abs=0.01
    )
    # 60 creates of ~30,000 points each, at most 33 to a request of <= 1,000,000 points.
    assert b["monday_requests"] == 2 and b["monday_max_request_complexity"] <= 1_000_000
    assert b["monday_max_request_share_of_ceiling"] <= 0.2
    assert naive["exact_calls"] == 12 and naive["monday_requests"] == 6
    assert naive["items_on_board"] == 6 and naive["api_calls_per_1000"] == 3000
    ours = b["exact_calls_per_1000"] + b["monday_requests_per_1000"]
    assert c["reduction_x"] == pytest.approx(3000 / ours, abs=0.1)
    assert results["budget"]["budget_exhausted_errors"] == 0
    assert results["budget"]["ingest_items"]["ingest_items"] is False
    verdicts = {t["target"]: t["verdict"] for t in results["targets"]}
    assert verdicts["Exact calls per 1,000 invoices"] == "FAIL"  # 2 calls for 60 records
    assert verdicts["Largest request / per-query ceiling"] == "PASS"
    # Everything the run wrote was rolled back.
    assert ExactConnection.objects.count() == 0 and SyncedRecord.objects.count() == 0


@pytest.mark.django_db
def test_the_budget_run_paces_batches_and_monday_refuses_none(quiet_backoff):
    result = run_budget(400, latency=0, speed=30)
    assert result["items_on_board"] == 400
    assert result["windows"] >= 2  # 400 items need 12 million points: more than a minute
    assert result["budget_exhausted_errors"] == 0
    assert result["max_request_complexity"] <= 1_000_000


def _results(**backfill) -> dict:
    b = {
        "exact_calls_per_1000": 4.1,
        "monday_requests_per_1000": 31.0,
        "monday_max_request_share_of_ceiling": 0.198,
    }
    b.update(backfill)
    return {"backfill": b}


def test_verdicts_follow_the_issues_targets():
    assert [t["verdict"] for t in report.targets(_results())] == ["PASS"] * 3
    failing = report.targets(
        _results(exact_calls_per_1000=5.1, monday_max_request_share_of_ceiling=0.21)
    )
    assert [t["verdict"] for t in failing] == ["FAIL", "PASS", "FAIL"]


def _day(**figures) -> dict:
    day = {
        "documents": 1000,
        "hours": 8.0,
        "p95_s": 1.5,
        "exact_daily_share": 0.3,
        "exact_calls_answered": 1500,
        "exact_floor_calls": 70,
        "missing": 0,
        "failed_records": 0,
        "webhook_post_errors": 0,
        "event_states": {"done": 1000},
    }
    day.update(figures)
    return day


def test_a_day_fails_on_a_missing_document_or_a_failed_write_whatever_its_figures():
    def verdict(**figures):
        (row,) = phase_report.targets({"normal_day": _day(**figures)})
        return row["verdict"]

    assert verdict() == "PASS"
    assert verdict(missing=1) == "FAIL"
    assert verdict(failed_records=1) == "FAIL"
    assert verdict(event_states={"done": 999, "dead": 1}) == "FAIL"
    assert verdict(p95_s=None) == "FAIL"  # documents never reached the board
    assert verdict(p95_s=2.1) == "FAIL" and verdict(exact_daily_share=0.41) == "FAIL"
    (busy,) = phase_report.targets({"busy_day": _day(p95_s=59.0, exact_daily_share=0.8)})
    assert busy["verdict"] == "PASS" and "floor 70 calls (1.4%)" in busy["note"]


def test_webhook_load_fails_on_a_lost_event():
    ingest = {
        "rate_per_s": 200,
        "achieved_rate_per_s": 199.0,
        "p99_ms": 30.0,
        "errors": 0,
        "lost": 0,
        "doubled": 0,
        "undrained": 0,
        "accepted": 10,
        "inbox_events": 10,
        "distinct_items": 10,
    }
    (row,) = phase_report.targets({"webhook_ingest": ingest})
    assert row["verdict"] == "PASS"
    (row,) = phase_report.targets({"webhook_ingest": {**ingest, "lost": 1}})
    assert row["verdict"] == "FAIL"
    assert lost({"accepted": 10, "inbox_events": 9, "event_states": {"done": 8, "pending": 1}}) == 2


def test_a_budget_run_within_one_window_gets_no_verdict():
    results = _results()
    results["budget"] = {"budget_share_full_windows": None, "budget_exhausted_errors": 0}
    (row,) = [t for t in report.targets(results) if t["target"].startswith("Monday budget")]
    assert row["verdict"] == "n/a" and "one budget window" in row["note"]


def _answer(after: int, reset_in: int) -> dict:
    complexity = {"before": after + 990_000, "after": after, "query": 990_000}
    complexity["reset_in_x_seconds"] = reset_in
    return {"data": {"m0": {"id": "1"}, "complexity": complexity}}


@responses.activate
def test_a_batch_that_would_not_fit_waits_for_the_window_instead_of_being_refused():
    now = [1000.0]
    slept: list[float] = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    responses.post(URL, json=_answer(after=500_000, reset_in=30))
    responses.post(URL, json=_answer(after=9_010_000, reset_in=60))
    client = MondayClient(token="t", api_url=URL, sleep=sleep, clock=lambda: now[0])
    client.execute_partial("mutation { m0: x }", expected_complexity=400_000)
    assert slept == []  # nothing known yet
    now[0] += 5
    client.execute_partial("mutation { m0: x }", expected_complexity=990_000)
    assert slept == [25.0] and client.stats.budget_pauses == 1
    assert client.budget.remaining == 9_010_000


def test_the_tracker_never_waits_once_the_window_has_reset():
    tracker = BudgetTracker(remaining=0, reset_at=100.0)
    assert tracker.wait_for(30_000, now=99.0) == 1.0
    assert tracker.wait_for(30_000, now=100.0) == 0.0
    assert BudgetTracker().wait_for(30_000, now=0.0) == 0.0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_webhooks_through_gunicorn_and_a_qcluster_each_end_as_one_item():
    from integrations.benchmark.latency import run_webhook_phases

    result = run_webhook_phases(
        latency=0,
        rate=20,
        seconds=1,
        gunicorn_workers=1,
        q_workers=2,
        q_poll=0.1,
        item_rate=10,
        item_seconds=0.5,
        drain_timeout=60,
    )
    ingest, to_item = result["webhook_ingest"], result["webhook_to_item"]
    assert ingest["sent"] == ingest["accepted"] == 20 and ingest["errors"] == 0
    assert ingest["inbox_events"] == ingest["synced_records"] == ingest["distinct_items"] == 20
    assert ingest["event_states"] == {"done": 20} and ingest["lost"] == ingest["doubled"] == 0
    assert ingest["p50_ms"] is not None and ingest["p50_ms"] <= ingest["p99_ms"]
    assert to_item["measured"] == 5 and 0 < to_item["p50_s"] <= to_item["p95_s"] < 30


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_poll_jobs_of_a_qcluster_on_one_token_all_reach_their_boards_and_none_is_refused():
    from integrations.benchmark.workers import run_workers

    result = run_workers(routes=3, invoices=12, latency=0, timeout=120)
    assert result["items_on_boards"] == result["items_wanted"] == 36
    assert result["budget_exhausted_errors"] == 0 and result["monday_error_codes"] == []
    # 36 items of about 30,000 points: one window, so no full minute to judge.
    assert result["windows"] == 1 and result["budget_share_full_windows"] is None
    assert 0.09 < result["window_shares"][0] < 0.13
