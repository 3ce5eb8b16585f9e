"""Reads in bulk under the real limits: a webhook burst is read from Exact with key-batched
filters and written to Monday in the poll's batches; changed sales orders are completed by key
batch, never one order at a time."""

from __future__ import annotations

from datetime import date

import pytest

from audit.models import AuditEvent
from integrations.models import SyncedRecord, WebhookEvent
from integrations.sync import polling, subscriptions

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(stack):
    stack.connect()
    stack.add_reference_data()
    route = stack.route()
    stack.map(route, "gl_account", "8000", "8000 Revenue")
    stack.map(route, "cost_center", "KP-100", "KP-100")
    subscriptions.register_subscriptions()
    stack.exact.webhooks_enabled = True
    return stack


def exact_calls(stack) -> int:
    return len(stack.exact.calls)


def item_keys(stack) -> list[str]:
    return sorted(item["texts"]["exact_key"] for item in stack.items())


def test_a_burst_of_50_invoice_events_costs_a_handful_of_calls(live):
    invoices = [live.invoice(description=f"Burst {n}") for n in range(50)]
    assert WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING).count() == 50
    exact_before, monday_before = exact_calls(live), len(live.monday.requests)
    states = live.drain()
    exact_used = exact_calls(live) - exact_before
    monday_used = len(live.monday.requests) - monday_before
    assert exact_used <= 6, live.exact.calls[exact_before:]
    assert monday_used <= 5
    assert set(states) == {"done"}
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {"done"}
    assert item_keys(live) == sorted(i["InvoiceID"].lower() for i in invoices)
    assert SyncedRecord.objects.filter(state=SyncedRecord.State.SYNCED).count() == 50
    assert AuditEvent.objects.filter(action="item.created").count() == 50


def test_a_lone_event_reaches_the_board_at_once(live):
    invoice = live.invoice()
    assert live.drain() == ["done"]
    assert item_keys(live) == [invoice["InvoiceID"].lower()]


def test_a_burst_with_a_deleted_invoice_marks_it_and_writes_the_others(live):
    kept = [live.invoice() for _ in range(3)]
    gone = live.invoice()
    live.exact.webhooks_enabled = False  # the deletion's own event arrives later
    live.exact.delete_sales_invoice(101, gone["InvoiceID"])
    assert set(live.drain()) == {"done"}
    assert item_keys(live) == sorted(i["InvoiceID"].lower() for i in kept)
    assert not SyncedRecord.objects.filter(exact_key=gone["InvoiceID"].lower()).exists()


def test_one_item_refused_by_monday_fails_only_its_own_event(live):
    good = [live.invoice() for _ in range(3)]
    bad = live.invoice(description="x" * 10)
    from integrations.sync import pipeline

    real = pipeline._write_locked

    def refuse_one(route, locked, built, docs_by_key, *args, **kw):
        key = bad["InvoiceID"].lower()
        if key in locked:
            from integrations.errors import RemoteUnavailable

            rec = locked.pop(key)
            pipeline._record_failure(rec, RemoteUnavailable("Monday is away."), "", args[-2])
        return real(route, locked, built, docs_by_key, *args, **kw)

    import unittest.mock

    with unittest.mock.patch.object(pipeline, "_write_locked", refuse_one):
        live.drain(rounds=1)
    states = dict(WebhookEvent.objects.values_list("exact_key", "state"))
    assert states.pop(bad["InvoiceID"].lower()) == WebhookEvent.State.PENDING  # to be retried
    assert set(states.values()) == {WebhookEvent.State.DONE}
    assert item_keys(live) == sorted(i["InvoiceID"].lower() for i in good)
    live.advance(120)
    assert live.drain() == ["done"]
    assert len(live.items()) == 4


def test_polling_100_changed_sales_orders_reads_them_in_key_batches(stack):
    stack.connect()
    stack.add_reference_data()
    route = stack.sales_order_route("KP-100")
    orders = [
        stack.exact.add_sales_order(
            101,
            account=stack.customer["ID"],
            order_date=date(2026, 11, 2),
            lines=[{"CostCenter": "KP-100", "Description": "Line", "AmountFC": 10 + n}],
            description=f"Order {n}",
        )
        for n in range(100)
    ]
    before = exact_calls(stack)
    counts = polling.poll_division(route, 101)
    used = exact_calls(stack) - before
    assert counts["written"] == 100
    assert used <= 8, stack.exact.calls[before:]
    assert item_keys(stack) == sorted(o["OrderID"].lower() for o in orders)
