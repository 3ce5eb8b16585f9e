"""`manage.py benchmark` at toy size, its verdicts, and the Monday client's budget pacing."""

from __future__ import annotations

import json

import pytest
import responses
from django.core.management import call_command

from integrations.benchmark import phase_report, report, verdicts
from integrations.benchmark.backfill import run_backfill
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
def test_a_quick_run_with_every_limit_on_writes_every_figure_beside_its_floor(
    tmp_path, quiet_backoff
):
    out = tmp_path / "bench.json"
    call_command(
        "benchmark",
        *("--here", "--skip-webhooks", "--quick", "--latency-ms", "0"),
        *("--n", "120", "--changed-n", "120", "--subitems-n", "60", "--burst-n", "120"),
        *("--month-end-n", "40", "--budget-n", "400", "--naive-n", "10"),
        *("--day-n", "30", "--busy-day-n", "0", "--day-hours", "1"),
        *("--json", str(out)),
    )
    results = json.loads(out.read_text())
    polling = results["polling"]
    assert set(polling) == {"sales_invoice", "purchase_order", "sales_order"}
    for entity, r in polling.items():
        assert r["tally"] == {
            "documents": 120,
            "items": 120,
            "failed_writes": 0,
            "missing": 0,
            "duplicates": 0,
        }, entity
        assert r["monday_refused"] == 0
        # A realistic spread of lines: 1 to 10 a document, about 3 on average.
        assert 120 * 2 < r["lines"] < 120 * 4
    invoices = polling["sales_invoice"]
    # The combined feed: every row in pages of 1,000, plus the deleted feed; that is the floor.
    assert invoices["exact_calls"] == invoices["exact_floor_calls"] == 2
    assert results["subitems"]["subitems"] == 180
    assert results["burst"]["tally"]["items"] == 120
    month = results["month_end"]
    assert month["tally"]["items"] == 120 and month["refused"] == 0
    # The first event's job reads the feed from the cursor, which holds every invoice already
    # posted: later events find theirs written. Within one Monday minute the floor does not bind.
    assert month["floor_minutes"] > 0 and 0 < month["elapsed_minutes"] <= 1.15 * 1 + 1
    roll = results["rollover"]
    assert roll["items_per_board"] == [40, 40, 20] and roll["board_full_errors"] == 0
    day = results["normal_day"]
    # 30 webhooks over a simulated hour, each through the endpoint, the inbox and the worker.
    assert day["webhooks_posted"] == day["inbox_events"] == day["items_on_board"] == 30
    assert day["event_states"] == {"done": 30} and day["missing"] == day["failed_records"] == 0
    assert 0 <= day["p50_s"] <= day["p95_s"] <= day["max_s"] < 3600
    assert day["poll_runs"] == 4  # every 15 minutes of the hour
    assert day["exact_daily_share"] == round(day["exact_calls_answered"] / 5000, 4)
    assert results["busy_day"] == {} and "budget_workers" not in results
    assert results["budget"]["budget_exhausted_errors"] == 0
    rows = {t["target"].split(" (")[0]: t for t in results["targets"]}
    with_tally = [t for t in results["targets"] if t.get("missing") is not None]
    assert len(with_tally) >= 8
    assert all(t["failed_writes"] == t["missing"] == t["duplicates"] == 0 for t in with_tally)
    assert rows["Exact calls per 1,000 sales invoices by polling"]["verdict"] == "PASS"
    assert rows["Exact calls per 1,000 sales invoices by polling"]["floor"] == pytest.approx(
        2000 / 120, abs=0.01
    )
    assert rows["100 invoices into boards that hold 40"]["verdict"] == "PASS"
    table = report.table(results)
    assert "| figure | measured | floor | goal | failed writes | missing | duplicates |" in table
    # Everything the run wrote was rolled back.
    assert ExactConnection.objects.count() == 0 and SyncedRecord.objects.count() == 0


@pytest.mark.django_db
def test_a_failed_write_turns_the_verdict_to_fail_whatever_the_figure(quiet_backoff):
    def refuse_a_column(world):
        world.monday.fail_next(error_code="ColumnValueException")

    result = run_backfill(60, latency=0, fault=refuse_a_column)
    assert result["tally"]["failed_writes"] > 0
    assert result["tally"]["missing"] == result["tally"]["failed_writes"]
    calls, _ceiling = report.polling_rows({"sales_invoice": result})
    assert result["exact_calls_per_1000"] <= 1.1 * result["exact_floor_per_1000"] + 2
    assert calls["verdict"] == "FAIL" and calls["failed_writes"] > 0
    whole = run_backfill(60, latency=0)
    assert report.polling_rows({"sales_invoice": whole})[0]["verdict"] == "PASS"


def test_a_row_fails_on_a_missing_or_doubled_item_and_passes_only_when_whole():
    tally = {"documents": 10, "items": 10, "failed_writes": 0, "missing": 0, "duplicates": 0}
    assert verdicts.row("x", 1, goal="<= 2", ok=True, tally=tally)["verdict"] == "PASS"
    assert verdicts.row("x", 3, goal="<= 2", ok=False, tally=tally)["verdict"] == "FAIL"
    for broken in ("missing", "duplicates", "failed_writes"):
        bad = {**tally, broken: 1}
        assert verdicts.row("x", 1, goal="<= 2", ok=True, tally=bad)["verdict"] == "FAIL"
    assert verdicts.row("x", 1, goal="", ok=None)["verdict"] == "n/a"


def test_floors_come_from_the_limits():
    assert verdicts.feed_floor(4_070) == 5 and verdicts.feed_floor(0) == 1
    assert verdicts.feed_floor(1_000, 3_070) == 5
    assert verdicts.monday_minutes_floor(90_000_000) == 9.0
    assert verdicts.monday_requests_floor(12_000_000) == 3


def test_a_budget_run_within_one_window_gets_no_verdict():
    (row,) = report.budget_rows({"budget_share_full_windows": None, "budget_exhausted_errors": 0})
    assert row["verdict"] == "n/a" and "one budget window" in row["note"]


@pytest.mark.django_db
def test_the_budget_run_paces_batches_and_monday_refuses_none(quiet_backoff):
    result = run_budget(400, latency=0)
    assert result["items_on_board"] == 400
    assert result["windows"] >= 2  # 400 items need 12 million points: more than a minute
    assert result["budget_exhausted_errors"] == 0
    assert result["max_request_complexity"] <= 1_000_000
    assert result["budget_share_full_windows"] >= 0.9


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
    # The web server's CPU per webhook, from its processes' /proc counters: a webhook costs
    # some (at least a tick over 20 of them), and far less than a second.
    assert 0 < ingest["server_cpu_ms_per_webhook"] < 1000
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


def test_the_load_generator_counts_accepted_duplicates_and_refusals_from_a_real_server():
    # The generator reads answers off a raw socket: a server that accepts, one that says
    # "duplicate" and one that refuses must each be counted as what they are.
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from integrations.benchmark.load_client import post_at_rate

    class Answer(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            code, status = {b"new": (200, "pending"), b"again": (200, "duplicate")}.get(
                body, (401, "")
            )
            payload = json.dumps({"status": status}).encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/webhooks/exact/"
        result = post_at_rate(url, [b"new", b"new", b"again", b"forged"], rate=100)
    finally:
        server.shutdown()
    assert (result.sent, result.accepted, result.duplicates, result.errors) == (4, 2, 1, 1)
    assert result.error_samples == ["HTTP 401"]
    assert len(result.latencies_ms) == 4
