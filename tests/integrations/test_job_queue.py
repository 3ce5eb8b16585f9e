"""One queued job per burst (sync/job_queue.py): events of one division and topic that arrive
while a job for them waits in the queue ride on it; a started job opens the way for the next."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_q.models import OrmQ

from integrations.exact.webhooks import parse
from integrations.models import InboxJob, WebhookEvent
from integrations.sync import inbox, job_queue

pytestmark = pytest.mark.django_db
State = WebhookEvent.State


def receive(n: int, *, topic="SalesInvoices", division=101):
    body = (
        '{"Topic":"%s","ClientId":"sandbox-client","Division":%d,"Action":"Create",'
        '"Key":"c7d1a0f2-1111-2222-3333-%012d","EventCreatedOn":"2026-11-30T08:00:00"}'
        % (topic, division, n)
    ).encode()
    event, _ = inbox.receive_webhook_event(parse(body), raw_body="{}", client_id="")
    return event


def queued_events() -> list[int]:
    from django_q.signing import SignedPackage

    return sorted(SignedPackage.loads(q.payload)["args"][0] for q in OrmQ.objects.all())


def test_a_burst_queues_one_job_and_another_division_its_own(
    exact_connection, monday_connection, settings
):
    from integrations.models import ExactDivision
    from tests import factories

    ExactDivision.objects.create(connection=exact_connection, code=102, name="B", selected=True)
    factories.make_route(exact_connection, monday_connection)  # divisions 101 and 102
    settings.Q_BROKER = "orm"
    first, *rest = [receive(n) for n in range(5)]
    other = receive(9, division=102)
    assert other.state == State.PENDING
    assert queued_events() == [first.pk, other.pk]
    assert all(e.state == State.PENDING for e in rest)


def test_a_started_job_lets_the_next_event_queue_its_own(route, settings):
    settings.Q_BROKER = "orm"
    first = receive(1)
    receive(2)
    assert job_queue.take_turn(101, "SalesInvoices") is not None
    third = receive(3)
    assert queued_events() == [first.pk, third.pk]


def test_one_job_of_a_group_runs_at_a_time_and_queues_the_next_when_it_ends(
    route, settings, monkeypatch
):
    settings.Q_BROKER = "orm"
    first = receive(1)
    OrmQ.objects.all().delete()  # its job is being run now
    second_job = []

    def process(event, wait):
        # While the first job runs, an event arrives and its job starts on another worker.
        second = receive(2)
        second_job.append((second.pk, inbox.run_job(second.pk)))
        WebhookEvent.objects.filter(pk=event.pk).update(state=State.DONE)
        return State.DONE

    monkeypatch.setattr(inbox, "process_webhook_event", process)
    assert inbox.run_job(first.pk) == State.DONE
    ((second_pk, outcome),) = second_job
    assert outcome == "deferred"  # it found the turn taken and took nothing
    assert WebhookEvent.objects.get(pk=second_pk).state == State.PENDING
    # The running job, as it ended, queued the next one for the event left.
    assert queued_events() == [second_pk, second_pk]  # the webhook's own, and the leftover's
    assert InboxJob.objects.get().running_since is None


def test_a_turn_outlives_its_job_only_until_the_job_timeout(route, settings):
    settings.Q_BROKER = "orm"
    receive(1)
    assert job_queue.take_turn(101, "SalesInvoices") is not None  # then the worker is killed
    assert job_queue.take_turn(101, "SalesInvoices") is None
    InboxJob.objects.update(
        running_since=timezone.now() - job_queue.running_stale() - timedelta(seconds=1)
    )
    assert job_queue.take_turn(101, "SalesInvoices") is not None


def test_a_job_that_could_not_take_the_events_queues_the_next(route, settings, monkeypatch):
    settings.Q_BROKER = "orm"
    first, second = receive(1), receive(2)
    # Another worker holds the first event; its job cannot claim it and takes nothing along.
    WebhookEvent.objects.filter(pk=first.pk).update(state=State.PROCESSING)
    OrmQ.objects.all().delete()  # the first job is being run now
    monkeypatch.setattr(inbox, "process_webhook_event", lambda event, wait: event.state)
    assert inbox.run_job(first.pk) == State.PROCESSING
    assert queued_events() == [second.pk]  # the second event is not left to the sweeper


def test_a_job_the_broker_lost_holds_the_group_back_only_until_the_mark_is_stale(route, settings):
    settings.Q_BROKER = "orm"
    receive(1)
    OrmQ.objects.all().delete()  # lost: the mark still says a job is queued
    receive(2)
    assert queued_events() == []
    InboxJob.objects.update(
        queued_at=timezone.now() - job_queue.QUEUED_STALE - timedelta(seconds=1)
    )
    third = receive(3)
    assert queued_events() == [third.pk]


def test_with_redis_the_job_is_queued_only_once_the_event_is_committed(
    route, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.Q_BROKER = "redis"
    sent = []
    monkeypatch.setattr(job_queue, "async_task", lambda *args, **kw: sent.append(args[1]))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        event = receive(1)
        receive(2)
        assert sent == []
    assert sent == [event.pk]
