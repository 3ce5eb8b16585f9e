"""When an item joined the review queue (SyncedRecord.flagged_at): set when it is flagged, kept
while a re-write leaves it flagged, cleared when a mapping clears it. The review queue's
"flagged" date filter and the reviewers' daily digest read it."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone

from integrations import sync
from integrations.models import SyncedRecord
from integrations.sync import subscriptions


def test_flagged_at_marks_when_an_item_joined_the_queue_until_it_leaves(stack):
    stack.connect()
    stack.add_reference_data()
    route = stack.route()
    stack.map(route, "gl_account", "8000", "8000 Revenue")
    stack.exact.add_cost_center(101, "KP-410", "Project Lighthouse")
    stack.refresh_reference_data()
    subscriptions.register_subscriptions()
    stack.exact.webhooks_enabled = True
    stack.invoice(cc="KP-410")
    stack.drain()
    record = SyncedRecord.objects.get()
    assert record.state == SyncedRecord.State.FLAGGED
    first = record.flagged_at
    assert first is not None and abs(timezone.now() - first) < timedelta(minutes=1)

    with time_machine.travel(timezone.now() + timedelta(hours=3)):
        sync.resync_records(SyncedRecord.objects.all(), correlation_id="test")  # still unmapped
    record.refresh_from_db()
    assert record.state == SyncedRecord.State.FLAGGED and record.flagged_at == first

    stack.map(route, "cost_center", "KP-410", "KP-200")
    sync.resync_records(SyncedRecord.objects.all(), correlation_id="test")
    record.refresh_from_db()
    assert record.state == SyncedRecord.State.SYNCED and record.flagged_at is None
