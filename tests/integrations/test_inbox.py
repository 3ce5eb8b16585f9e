"""The inbox's own retry state: claim once, back off, dead after the last attempt, stale claims."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import WebhookEvent
from integrations.sync import inbox, job_queue

pytestmark = pytest.mark.django_db


def make_event(**kw):
    fields = dict(
        dedupe_key="k1",
        topic="SalesInvoices",
        action="update",
        division=101,
        exact_key="c7d1a0f2-1111-2222-3333-444455556666",
        raw_body="{}",
    )
    fields.update(kw)
    return WebhookEvent.objects.create(**fields)


def test_backoff_grows_and_is_capped():
    assert [inbox.backoff(n).total_seconds() for n in (1, 2, 3, 10)] == [30, 60, 120, 1800]


def test_an_event_is_claimed_by_one_worker_only(route):
    event = make_event()
    assert inbox._claim(event) is True
    again = WebhookEvent.objects.get(pk=event.pk)
    assert inbox._claim(again) is False
    assert WebhookEvent.objects.get(pk=event.pk).attempts == 1


def test_a_retryable_failure_schedules_a_retry_then_goes_dead(route):
    event = make_event(attempts=0)
    inbox._claim(event)
    assert inbox._finish(event, WebhookEvent.State.DEAD, error="Exact 503", retry=True) == "pending"
    assert event.next_attempt_at > timezone.now()
    event.attempts = inbox.MAX_ATTEMPTS
    assert inbox._finish(event, WebhookEvent.State.DEAD, error="Exact 503", retry=True) == "dead"
    assert WebhookEvent.objects.get(pk=event.pk).last_error == "Exact 503"


def test_an_event_without_a_route_any_more_ends_ignored(route):
    event = make_event(division=999)
    assert inbox.process_webhook_event(event) == "ignored"


def test_stale_claims_of_dead_workers_are_put_back(route):
    event = make_event(
        state=WebhookEvent.State.PROCESSING,
        claimed_at=timezone.now() - job_queue.STALE_CLAIM - timedelta(seconds=5),
        received_at=timezone.now() - timedelta(hours=1),
    )
    assert job_queue.enqueue_due_events() == 1
    assert WebhookEvent.objects.get(pk=event.pk).state == WebhookEvent.State.PENDING


def test_a_fresh_claim_is_left_alone(route):
    make_event(state=WebhookEvent.State.PROCESSING, claimed_at=timezone.now())
    assert job_queue.enqueue_due_events() == 0


def test_retry_puts_a_dead_event_back_and_audits(route, staff_user):
    from audit.models import AuditEvent

    event = make_event(state=WebhookEvent.State.DEAD, attempts=6, last_error="x")
    job_queue.retry_event(event, user=staff_user)
    event.refresh_from_db()
    assert (event.state, event.attempts, event.last_error) == ("pending", 0, "")
    assert AuditEvent.objects.filter(action="webhook.retried", actor="admin").count() == 1


def test_waiting_events_go_back_by_group_once_the_connections_are_back(
    route, django_assert_num_queries
):
    # Thousands wait while Exact needs re-authorization: the minute's sweep looks at each
    # division and topic once, whatever the number of events waiting in it.
    Waiting = WebhookEvent.State.WAITING
    for n in range(30):
        make_event(dedupe_key=f"w{n}", state=Waiting, received_at=timezone.now())
    route.exact_connection.status = "needs_reauth"
    route.exact_connection.save()
    # Stale claims, the waiting groups, the group's routes, the due events, and the (empty)
    # transaction's savepoint pair: six, where one routes query per waiting event made 35.
    with django_assert_num_queries(6):
        job_queue.enqueue_due_events()
    assert WebhookEvent.objects.filter(state=Waiting).count() == 30
    route.exact_connection.status = "connected"
    route.exact_connection.save()
    job_queue.enqueue_due_events()
    assert not WebhookEvent.objects.filter(state=Waiting).exists()
