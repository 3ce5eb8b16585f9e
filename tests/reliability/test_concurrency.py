"""Concurrent deliveries and workers on PostgreSQL: one inbox row, one Monday item."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django_q.models import OrmQ

from integrations.models import SyncedRecord, WebhookEvent
from integrations.sync import inbox
from tests.reliability.conftest import item_keys
from tests.reliability.counters import COUNTS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_concurrently(functions: list[Callable[[], object]], timeout: float = 60) -> list:
    """Start every function in its own thread at the same moment; return their results."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)
    errors: list[BaseException] = []

    def run(i, fn):
        try:
            barrier.wait(timeout=10)
            results[i] = fn()
        except BaseException as exc:  # surfaced in the test below
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own database connection

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(functions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    assert not errors, errors
    return results


def capture_webhooks(stack) -> list[bytes]:
    """Keep the signed bodies the Exact sandbox would deliver instead of posting them."""
    bodies: list[bytes] = []
    stack.exact.webhook_transport = lambda url, body: bodies.append(body) or 200
    return bodies


def post(body: bytes):
    def send():
        response = Client().post("/webhooks/exact/", data=body, content_type="application/json")
        return response.status_code, response.json()["status"]

    return send


def test_ten_webhooks_of_one_burst_at_once_queue_one_job_that_writes_them_all(live):
    from integrations.models import InboxJob
    from integrations.sync import job_queue

    bodies = capture_webhooks(live)
    invoices = [live.invoice(amounts=(10 + n,)) for n in range(10)]
    InboxJob.objects.all().delete()  # no mark yet: the ten race to create it too
    answers = run_concurrently([post(body) for body in bodies])
    assert answers == [(200, "pending")] * 10
    assert OrmQ.objects.count() == 1  # one job for the burst (sync/job_queue.py)
    (queued,) = OrmQ.objects.all()
    from django_q.signing import SignedPackage

    assert inbox.run_job(SignedPackage.loads(queued.payload)["args"][0]) == "done"
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {"done"}
    assert sorted(item_keys(live)) == sorted(i["InvoiceID"].lower() for i in invoices)
    assert not job_queue.queue_leftovers(101, "SalesInvoices")


def test_one_invoice_delivered_five_times_at_once_is_stored_once_and_written_once(live):
    bodies = capture_webhooks(live)
    invoice = live.invoice()
    (body,) = bodies
    COUNTS["faults injected: concurrent redeliveries of one webhook"] += 5
    answers = run_concurrently([post(body) for _ in range(5)])
    assert sorted(answers) == [(200, "duplicate")] * 4 + [(200, "pending")]
    assert WebhookEvent.objects.count() == 1
    assert OrmQ.objects.count() == 1  # one job queued
    # Five workers get the one event at once: one claims it, the others see it taken.
    event_id = WebhookEvent.objects.get().pk
    states = run_concurrently(
        [
            lambda: inbox.process_webhook_event(WebhookEvent.objects.get(pk=event_id))
            for _ in range(5)
        ]
    )
    assert states.count("done") == 1  # the others return without doing anything
    assert WebhookEvent.objects.get().attempts == 1
    assert item_keys(live) == [invoice["InvoiceID"].lower()]


@pytest.fixture
def versions_per_worker(monkeypatch):
    """Each worker reads its own version of the record, as when Exact changes it between the
    workers' fetches: their items differ, so Idempotency-Keys cannot merge their creates."""
    from integrations.exact.client import ExactClient

    real, real_many = ExactClient.get_document, ExactClient.get_documents

    def get_document(self, entity, division, key):
        doc = real(self, entity, division, key)
        return dataclasses.replace(doc, description=f"Version {threading.get_ident()}")

    def get_documents(self, entity, division, keys):
        found = real_many(self, entity, division, keys)
        version = f"Version {threading.get_ident()}"
        return {k: dataclasses.replace(d, description=version) for k, d in found.items()}

    monkeypatch.setattr(ExactClient, "get_document", get_document)
    monkeypatch.setattr(ExactClient, "get_documents", get_documents)


def test_different_events_for_one_invoice_on_several_workers_write_one_item(
    live, versions_per_worker
):
    live.monday.latency = 0.3  # every Monday call takes a while: the workers overlap
    bodies = capture_webhooks(live)
    invoice = live.invoice()
    for n in range(3):
        live.exact.update_sales_invoice(101, invoice["InvoiceID"], Description=f"Edit {n}")
    assert len(bodies) == 4  # Create, then three Updates: four distinct events
    for body in bodies:
        assert Client().post("/webhooks/exact/", data=body, content_type="application/json")
    events = list(WebhookEvent.objects.order_by("pk"))
    assert len(events) == 4 and {e.state for e in events} == {WebhookEvent.State.PENDING}
    COUNTS["faults injected: concurrent workers on one invoice"] += len(events)
    states = run_concurrently([lambda e=e: inbox.process_webhook_event(e) for e in events])
    # A worker takes every due event of the invoice's division and entity along (a burst is
    # read and written together); a worker whose event was taken sees it still in progress.
    assert "done" in states and set(states) <= {"done", "processing"}
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {"done"}
    assert item_keys(live) == [invoice["InvoiceID"].lower()]
    record = SyncedRecord.objects.get()
    (item,) = live.items()
    assert record.monday_item_id == item["id"]
    assert item["texts"]["description"].startswith("Version ")


def test_two_routes_never_share_a_record_lock_and_each_gets_one_item(stack, versions_per_worker):
    """Two boards fed by one invoice: each route has its own record and its own item."""
    from tests.reliability.conftest import make_live

    live = make_live(stack)
    second_board = live.monday.finance_board("Finance — copy")
    from integrations.monday import connections as monday_connections

    monday_connections.refresh_monday_boards(live.monday_conn)
    live.route(name="Copy", board_id=second_board)
    live.monday.latency = 0.2
    bodies = capture_webhooks(live)
    invoice = live.invoice()
    live.exact.update_sales_invoice(101, invoice["InvoiceID"], Description="Edited")
    for body in bodies:
        Client().post("/webhooks/exact/", data=body, content_type="application/json")
    events = list(WebhookEvent.objects.all())
    COUNTS["faults injected: concurrent workers on one invoice"] += len(events)
    states = run_concurrently([lambda e=e: inbox.process_webhook_event(e) for e in events])
    assert "done" in states and set(states) <= {"done", "processing"}  # taken along, see above
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {"done"}
    key = invoice["InvoiceID"].lower()
    assert item_keys(live) == [key]
    assert [i["texts"]["exact_key"] for i in live.monday.items(second_board)] == [key]
    assert SyncedRecord.objects.count() == 2
