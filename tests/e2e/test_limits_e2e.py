"""The whole pipeline with every sandbox limit on meets Exact's 60 calls a minute and Monday's
per-minute complexity budget, waits them out, and finishes correctly in little real time: the
product's waits move the clock it shares with the sandboxes (tests/stack.py SharedClock)."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from integrations.models import SyncedRecord, WebhookEvent
from integrations.sync import polling
from tests.reliability.conftest import make_live

pytestmark = pytest.mark.django_db

EXACT_MINUTELY = 60
MONDAY_BUDGET = 10_000_000


def exact_calls(stack, division=101) -> int:
    return sum(1 for _, path, _ in stack.exact.calls if path.startswith(f"/api/v1/{division}/"))


def monday_points(stack) -> int:
    return sum(r["complexity"] for r in stack.monday.requests if r["status"] == 200)


def test_a_backfill_and_a_stream_of_webhooks_wait_out_both_limits_on_the_shared_clock(stack):
    assert stack.exact.limits_off == frozenset() and stack.monday.limits_off == frozenset()
    live = make_live(stack)
    # time-machine moves time.monotonic with the shared clock; perf_counter stays real.
    real_start, clock_start = time.perf_counter(), timezone.now()

    # A backfill whose writes cost more than Monday's budget for one minute.
    live.exact.webhooks_enabled = False
    live.exact.bulk_add_sales_invoices(101, 400, lines_per_invoice=1)
    points_before = monday_points(live)
    assert polling.poll_division(live.route_obj, 101)["written"] == 400
    assert monday_points(live) - points_before > MONDAY_BUDGET

    # Invoices synced one by one as their webhooks come in: each costs at least one read (one
    # call when the feed past the cursor is read), so together more than Exact allows in two
    # minutes.
    live.exact.webhooks_enabled = True
    calls_before = exact_calls(live)
    for _ in range(2 * EXACT_MINUTELY + 5):
        live.invoice()
        assert live.drain() == ["done"]
    assert set(live.deliveries) == {200}
    assert exact_calls(live) - calls_before > 2 * EXACT_MINUTELY

    # Everything arrived once, nothing is left behind.
    keys = [i["texts"]["exact_key"] for i in live.items()]
    assert len(keys) == len(set(keys)) == 400 + 2 * EXACT_MINUTELY + 5
    synced = SyncedRecord.objects.filter(state=SyncedRecord.State.SYNCED)
    assert synced.count() == 400 + 2 * EXACT_MINUTELY + 5
    assert not WebhookEvent.objects.exclude(state=WebhookEvent.State.DONE).exists()
    # The limits were met: the product waited, at least a minute on the shared clock ...
    waited = sum(live.shared_clock.waits)
    assert waited >= 60
    assert (timezone.now() - clock_start).total_seconds() >= waited
    # ... and not in real time: sleeping alone would have taken longer than the whole test did.
    assert time.perf_counter() - real_start < waited
