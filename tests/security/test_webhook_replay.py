"""Replays of a signed webhook body.

Decision (what the code does, and why it is enough): Exact's signed Content carries
EventCreatedOn, and the inbox's dedupe key is (Division, Topic, Key, Action, EventCreatedOn).
A redelivered body, and the same body replayed days later, therefore map to the stored event
and queue nothing. Refusing bodies by age is not done: Exact redelivers late on its own, and
a notification carries no data, only a key, so even a replay that got through would only make
us re-read the record from Exact and write nothing new. Changing EventCreatedOn to dodge the
dedupe breaks the HMAC, so only the secret's holder can mint a new event.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_q.models import OrmQ

from integrations.exact.webhooks import envelope
from integrations.models import WebhookEvent
from tests.reliability.conftest import item_keys, make_live
from tests.reliability.counters import COUNTS
from tests.stack import WEBHOOK_SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(stack):
    """A live stack whose first invoice webhook body was delivered and processed."""
    live = make_live(stack)
    bodies: list[bytes] = []
    transport = live.exact.webhook_transport

    def keep(url, body):
        bodies.append(body)
        return transport(url, body)

    live.exact.webhook_transport = keep
    invoice = live.invoice()
    assert live.drain() == ["done"]
    (body,) = bodies
    return live, body, invoice


def post(live, body: bytes):
    COUNTS["bad inputs tried: webhook replays"] += 1
    return live.webhook_client.post("/webhooks/exact/", data=body, content_type="application/json")


def test_the_signed_content_carries_event_created_on(signed):
    _, body, _ = signed
    content = json.loads(body)["Content"]
    assert content["EventCreatedOn"] and content["Key"]


def test_an_identical_redelivery_is_deduplicated(signed):
    live, body, _ = signed
    queued = OrmQ.objects.count()
    response = post(live, body)
    assert response.status_code == 200 and response.json()["status"] == "duplicate"
    assert WebhookEvent.objects.count() == 1 and OrmQ.objects.count() == queued


def test_an_old_body_replayed_a_month_later_is_still_deduplicated(signed):
    live, body, _ = signed
    queued = OrmQ.objects.count()
    with time_machine.travel(timezone.now() + timedelta(days=30)):
        response = post(live, body)
    assert response.json()["status"] == "duplicate"
    assert WebhookEvent.objects.count() == 1 and OrmQ.objects.count() == queued
    assert live.drain() == []


def test_changing_event_created_on_to_dodge_the_dedupe_breaks_the_signature(signed):
    live, body, _ = signed
    envelope_dict = json.loads(body)
    envelope_dict["Content"]["EventCreatedOn"] = "2030-01-01T00:00:00.000"
    forged = json.dumps(envelope_dict).encode()
    assert post(live, forged).status_code == 401
    assert WebhookEvent.objects.count() == 1


def test_a_replay_that_got_through_writes_nothing_new(signed):
    """Even re-signed with the secret (a new EventCreatedOn), the event only re-reads Exact."""
    live, body, invoice = signed
    content = json.loads(body)["Content"]
    content["EventCreatedOn"] = "2030-01-01T00:00:00.000"
    mutations = sum(r["mutations"] for r in live.monday.requests)
    response = post(live, envelope(json.dumps(content).encode(), WEBHOOK_SECRET))
    assert response.json()["status"] == "pending"
    assert live.drain() == ["done"]
    assert sum(r["mutations"] for r in live.monday.requests) == mutations  # nothing written
    assert item_keys(live) == [invoice["InvoiceID"].lower()]
