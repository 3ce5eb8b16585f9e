"""A burst read through the sync feed while other workers and a poll run (PostgreSQL): one reader
of the cursor at a time, the others read by key; every event done, one item per invoice."""

from __future__ import annotations

import pytest
from django.test import Client

from integrations.models import PollCursor, SyncedRecord, WebhookEvent
from integrations.sync import inbox, polling
from tests.reliability.conftest import item_keys
from tests.reliability.counters import COUNTS
from tests.reliability.test_concurrency import capture_webhooks, run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_workers_and_a_poll_on_one_burst_write_each_invoice_once(live):
    route = live.route_obj
    live.exact.webhooks_enabled = False
    first = live.invoice()
    polling.poll_division(route, 101)  # a cursor to read the feed from
    live.exact.webhooks_enabled = True
    bodies = capture_webhooks(live)
    invoices = [live.invoice(amounts=(n,)) for n in range(1, 31)]
    for body in bodies:
        Client().post("/webhooks/exact/", data=body, content_type="application/json")
    events = list(WebhookEvent.objects.order_by("pk"))[:4]
    live.monday.latency = 0.2  # every Monday call takes a while: the readers overlap
    COUNTS["faults injected: a poll and workers on one burst"] += len(events) + 1
    results = run_concurrently(
        [lambda e=e: inbox.process_webhook_event(e) for e in events]
        + [lambda: polling.poll_division(route, 101)]
    )
    assert set(results[:4]) <= {"done", "processing"}
    live.drain()  # events no worker took (or that came back pending) are read now
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {"done"}
    keys = item_keys(live)
    assert len(keys) == len(set(keys)) == 31
    assert sorted(keys) == sorted(i["InvoiceID"].lower() for i in [first, *invoices])
    assert SyncedRecord.objects.filter(state=SyncedRecord.State.SYNCED).count() == 31
    cursor = PollCursor.objects.get(route=route, division=101, feed=route.entity)
    assert cursor.running_since is None
    assert polling.poll_division(route, 101)["written"] == 0
