"""Webhook events refused because Monday.com's daily calls are used up wait for the daily
reset and are then written: the limit is not a failure, so it spends none of their attempts and
none dies (found by the benchmark's normal day: 1,000 documents used up a basic plan's 1,000
calls and the last events ended dead)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from integrations.models import WebhookEvent
from tests.reliability.conftest import make_live

pytestmark = pytest.mark.django_db
State = WebhookEvent.State


def test_events_refused_for_the_daily_call_limit_wait_for_the_reset_and_none_dies(stack):
    live = make_live(stack)
    # Three writes left today on the Monday.com account (the sandbox counts every call).
    live.monday.daily_call_limit = len(live.monday.requests) + 3
    for _ in range(6):
        live.invoice()
        live.drain()
    refused = WebhookEvent.objects.exclude(state=State.DONE)
    assert WebhookEvent.objects.filter(state=State.DONE).count() == 3
    assert refused.count() == 3 and set(refused.values_list("state", flat=True)) == {"pending"}
    # Twenty minutes of the worker's retry rounds: a backoff would have spent six attempts.
    for _ in range(20):
        live.advance(60)
        live.drain()
    assert not WebhookEvent.objects.filter(state=State.DEAD).exists()
    midnight = datetime.combine(
        timezone.now().date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC
    )
    for event in refused:
        assert event.state == State.PENDING and event.next_attempt_at >= midnight
        assert "daily" in event.last_error.lower()
    live.advance((midnight - timezone.now()).total_seconds() + 5)
    live.drain()
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {"done"}
    keys = [i["texts"].get("exact_key") for i in live.items()]
    assert len(keys) == len(set(keys)) == 6
