"""Faults on either side of the sync: every accepted event still ends `done`, one item each.

Exact Online timeouts and 500s, Monday.com 5xx, budget and rate-limit answers, and a worker
that dies after Monday applied a write but before the synced record was saved.
"""

from __future__ import annotations

import pytest

from integrations import sync
from integrations.exact import client as exact_client_module
from integrations.models import SyncedRecord, WebhookEvent
from integrations.monday.client import MondayClient
from tests.reliability.conftest import item_keys
from tests.reliability.counters import COUNTS

pytestmark = pytest.mark.django_db
State = WebhookEvent.State


def retry_now() -> None:
    """The retry time of every pending event has come (instead of waiting out the backoff)."""
    WebhookEvent.objects.filter(state=State.PENDING).update(next_attempt_at=None)


def faults_left(sandbox) -> int:
    return sum(f["remaining"] for f in sandbox._faults)


def assert_one_item_per_invoice(live, invoices) -> None:
    keys = item_keys(live)
    assert sorted(keys) == sorted(i["InvoiceID"].lower() for i in invoices)
    assert SyncedRecord.objects.count() == len(invoices)
    for record in SyncedRecord.objects.all():
        assert record.state == SyncedRecord.State.SYNCED, record.last_error
        assert record.monday_item_id in {i["id"] for i in live.items()}


@pytest.fixture
def waits(monkeypatch, stack):
    """The Monday client's waits, recorded and shortened (the asked-for seconds are kept, and
    pass on the shared clock, as the shared Monday budget reads it)."""
    asked: list[float] = []

    def wait(self, seconds):
        asked.append(seconds)
        self.stats.waited_seconds += seconds
        stack.advance(seconds)

    monkeypatch.setattr(MondayClient, "_wait", wait)
    return asked


# -- Exact Online ---------------------------------------------------------------------------


def test_exact_dropping_the_connection_twice_is_retried_within_the_job(live):
    live.exact.fail_next("salesinvoice", 0, timeout=True, sleep=0.05, count=2)
    COUNTS["faults injected: exact timeout"] += 2
    invoice = live.invoice()
    assert live.drain() == ["done"]
    assert faults_left(live.exact) == 0  # both faults were really hit
    assert_one_item_per_invoice(live, [invoice])


def test_exact_read_timeouts_past_the_retry_budget_leave_the_event_pending_then_done(
    live, monkeypatch
):
    monkeypatch.setattr(exact_client_module, "TIMEOUT", (2, 0.2))
    # 1 try + 3 retries, each waiting longer than the read timeout.
    live.exact.fail_next("salesinvoice", 0, timeout=True, sleep=0.6, count=4)
    COUNTS["faults injected: exact timeout"] += 4
    invoice = live.invoice()
    assert live.drain(rounds=1) == ["pending"]
    event = WebhookEvent.objects.get()
    assert event.attempts == 1 and event.next_attempt_at is not None
    assert "did not answer" in event.last_error and "ReadTimeout" in event.last_error
    assert live.items() == []
    assert faults_left(live.exact) == 0
    retry_now()
    assert live.drain() == ["done"]
    assert_one_item_per_invoice(live, [invoice])


@pytest.mark.parametrize("status", [500, 503])
def test_exact_server_errors_are_retried_in_the_job_then_across_jobs(live, status):
    first, second = live.invoice(), live.invoice()
    live.exact.fail_next("salesinvoice", status, count=2)  # absorbed by the client's retries
    COUNTS[f"faults injected: exact {status}"] += 2
    assert live.drain(rounds=1) == ["done", "done"]
    live.exact.fail_next("salesinvoice", status, count=8)  # two whole jobs' worth
    COUNTS[f"faults injected: exact {status}"] += 8
    third = live.invoice()
    live.exact.update_sales_invoice(101, first["InvoiceID"], Description="Changed")
    assert live.drain(rounds=1) == ["pending", "pending"]
    assert faults_left(live.exact) == 0
    assert all(
        f"HTTP {status}" in e.last_error for e in WebhookEvent.objects.filter(state=State.PENDING)
    )
    retry_now()
    assert live.drain() == ["done", "done"]
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {State.DONE}
    assert_one_item_per_invoice(live, [first, second, third])
    (changed,) = [i for i in live.items() if i["texts"]["exact_key"] == first["InvoiceID"].lower()]
    assert "Changed" in changed["texts"]["description"]


# -- Monday.com -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_monday_5xx_is_retried_with_the_same_idempotency_key(live, status):
    live.monday.fail_next(status=status, count=2)
    COUNTS[f"faults injected: monday {status}"] += 2
    invoice = live.invoice()
    assert live.drain() == ["done"]
    assert not live.monday._faults
    assert_one_item_per_invoice(live, [invoice])


def test_monday_down_for_longer_than_a_job_fails_the_record_then_recovers(live):
    live.monday.fail_next(status=502, count=4)  # 1 try + 3 retries
    COUNTS["faults injected: monday 502"] += 4
    invoice = live.invoice()
    assert live.drain(rounds=1) == ["pending"]
    record = SyncedRecord.objects.get()
    assert record.state == SyncedRecord.State.FAILED and "HTTP 502" in record.last_error
    assert "HTTP 502" in WebhookEvent.objects.get().last_error
    assert live.items() == []
    retry_now()
    assert live.drain() == ["done"]
    assert_one_item_per_invoice(live, [invoice])


def test_monday_applying_the_write_then_timing_out_is_replayed_not_repeated(live):
    live.monday.timeout_hang_seconds = 0.05
    live.monday.fail_next(apply_then_timeout=True)
    COUNTS["faults injected: monday applied then 504"] += 1
    invoice = live.invoice()
    assert live.drain() == ["done"]
    assert any(r["replayed"] for r in live.monday.requests)
    assert_one_item_per_invoice(live, [invoice])


@pytest.mark.parametrize(
    "status, code",
    [(None, "COMPLEXITY_BUDGET_EXHAUSTED"), (429, "RATE_LIMIT_EXCEEDED"), (429, None)],
)
def test_monday_limits_are_waited_out_for_the_seconds_monday_names(live, waits, status, code):
    live.monday.fail_next(status=status, error_code=code, retry_in_seconds=17, count=2)
    COUNTS[f"faults injected: monday {code or status}"] += 2
    invoice = live.invoice()
    assert live.drain() == ["done"]
    assert waits == [17.0, 17.0]
    assert_one_item_per_invoice(live, [invoice])


@pytest.mark.parametrize(
    "code, retry_in",
    [
        ("COMPLEXITY_BUDGET_EXHAUSTED", 600),
        ("RATE_LIMIT_EXCEEDED", 900),
        ("DAILY_LIMIT_EXCEEDED", 5),
    ],
)
def test_monday_limits_too_long_to_wait_leave_the_event_pending_then_done(
    live, waits, code, retry_in
):
    live.monday.fail_next(error_code=code, retry_in_seconds=retry_in)
    COUNTS[f"faults injected: monday {code}"] += 1
    invoice = live.invoice()
    assert live.drain(rounds=1) == ["pending"]
    assert waits == []  # never slept inside the job
    event = WebhookEvent.objects.get()
    assert event.next_attempt_at is not None and event.state == State.PENDING
    live.advance(retry_in)  # every worker remembers Monday's wait (the shared Monday budget)
    retry_now()
    assert live.drain() == ["done"]
    assert_one_item_per_invoice(live, [invoice])


# -- a worker dying between Monday's write and our record -------------------------------------


@pytest.fixture
def dies_after_monday_applied(monkeypatch):
    """The first successful write's record save fails, as if the worker died right there."""
    real = sync.pipeline._record_success
    deaths = []

    def record_success(route, rec, item, doc, result, *args):
        if not deaths:
            deaths.append(result.item_id)
            COUNTS["faults injected: worker died after monday applied the write"] += 1
            raise RuntimeError("worker killed")
        return real(route, rec, item, doc, result, *args)

    monkeypatch.setattr(sync.pipeline, "_record_success", record_success)
    return deaths


def test_record_lost_after_create_is_found_by_the_key_column(live, dies_after_monday_applied):
    invoice = live.invoice()
    assert live.drain(rounds=1) == ["pending"]
    assert len(live.items()) == 1  # Monday has the item; we have no item id for it
    assert SyncedRecord.objects.get().monday_item_id == ""
    # Exact changes the invoice before the retry: a new content hash, so a new Idempotency-Key
    # cannot replay the first create; only the lookup by the Exact key column can find it.
    live.exact.update_sales_invoice(101, invoice["InvoiceID"], Description="Edited meanwhile")
    retry_now()
    assert live.drain() == ["done", "done"]
    record = SyncedRecord.objects.get()
    assert record.write_attempts == 2
    assert record.monday_item_id == dies_after_monday_applied[0]
    (item,) = live.items()
    assert "Edited meanwhile" in item["texts"]["description"]
    assert_one_item_per_invoice(live, [invoice])


def test_record_lost_after_create_without_a_key_column_is_replayed_by_idempotency_key(
    stack, dies_after_monday_applied
):
    from tests.reliability.conftest import make_live
    from tests.stack import FINANCE_ROLES

    roles = {k: v for k, v in FINANCE_ROLES.items() if k != "exact_key"}
    live = make_live(stack, columns=roles)
    live.invoice()
    assert live.drain(rounds=1) == ["pending"]
    retry_now()
    assert live.drain() == ["done"]
    assert len(live.items()) == 1
    assert SyncedRecord.objects.get().monday_item_id == dies_after_monday_applied[0]
    assert any(r["replayed"] for r in live.monday.requests)


# -- polling ----------------------------------------------------------------------------------


def test_monday_down_during_a_poll_page_keeps_the_cursor_before_that_page(stack, monkeypatch):
    from integrations.errors import IntegrationError
    from integrations.models import PollCursor
    from integrations.sync import polling
    from tests.reliability.conftest import make_live

    live = make_live(stack, webhooks=False)
    route = live.route_obj
    # Documents are written in batches of 1,000 (once the feed is read): 1,200 make two batches.
    keys = live.exact.bulk_add_sales_invoices(101, 1200, lines_per_invoice=1)
    real = sync.write_documents
    pages = []

    def write_documents(route, docs, **kwargs):
        pages.append(len(docs))
        if len(pages) == 2:  # Monday answers 502 to the first write of page 2, and its retries
            live.monday.fail_next(status=502, count=4)
            COUNTS["faults injected: monday 502"] += 4
        return real(route, docs, **kwargs)

    monkeypatch.setattr(sync, "write_documents", write_documents)
    with pytest.raises(IntegrationError):
        polling.poll_division(route, 101)
    cursor = PollCursor.objects.get(route=route, division=101, feed=route.entity)
    assert 1 < cursor.timestamp < live.exact.store.rowversion  # after page 1 only
    assert cursor.running_since is None and "502" in cursor.last_error
    assert len(item_keys(live)) < 1200
    second = polling.poll_division(route, 101)
    assert second["failed"] == 0
    board = item_keys(live)
    assert len(board) == len(set(board)) == 1200 and set(board) == {k.lower() for k in keys}
    cursor.refresh_from_db()
    assert cursor.timestamp == live.exact.store.rowversion
