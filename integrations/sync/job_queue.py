"""One queued job per burst: the events of one division and topic that arrive while a job for
them is queued (and not started) ride on that job instead of queueing one each.

A job takes every due event of its division and topic with it (batches.py), so a job per event
only kept the workers busy turning down events another job had taken: at 200 webhooks a second
that was 200 jobs a second competing with the web server for the CPU and the database.

Shared state: an InboxJob row per (division, topic); `queued_at` set means a job is queued and
not started. The event's transaction sets it with a conditional UPDATE (so of two webhooks at
once exactly one queues); a job clears it when it starts, before it looks at the due events, so
an event committed after that queues a job of its own. When a job ends with due events of its
group left (it could not take them), it queues the next. A job lost by the broker leaves the
mark set: after QUEUED_STALE the next event queues again, and retry-due-events (every minute)
queues any event left behind.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from integrations.models import InboxJob, WebhookEvent

QUEUED_STALE = timedelta(minutes=2)


def enqueue(event_id: int) -> None:
    """Queue the job of this event, whatever is queued already (retries, the sweeper)."""

    def job():
        async_task("integrations.tasks.process_webhook_event", event_id, group="webhook")

    if settings.Q_BROKER == "orm":
        # The job's row joins the event's transaction: one commit (one flush to disk) a
        # webhook instead of two, and a worker sees the job exactly when it sees the event.
        job()
    else:
        transaction.on_commit(job)  # Redis is outside the transaction: queue once committed


def enqueue_for_group(event: WebhookEvent) -> bool:
    """Queue a job for the event unless one for its division and topic is queued and not
    started. Call inside the event's transaction. Returns whether a job was queued."""
    now = timezone.now()
    group = InboxJob.objects.filter(division=event.division, topic=event.topic)
    free = Q(queued_at__isnull=True) | Q(queued_at__lt=now - QUEUED_STALE)
    if not group.filter(free).update(queued_at=now):
        if group.exists():
            return False  # the queued job takes this event along
        with transaction.atomic():  # a savepoint: another webhook may create it first
            _, created = InboxJob.objects.get_or_create(
                division=event.division, topic=event.topic, defaults={"queued_at": now}
            )
        if not created:
            return enqueue_for_group(event)
    enqueue(event.pk)
    return True


def started(division: int | None, topic: str) -> None:
    """A job of this group has started: events committed from now on queue their own."""
    InboxJob.objects.filter(division=division, topic=topic).update(queued_at=None)


def queue_leftovers(division: int | None, topic: str) -> bool:
    """After a job: when due events of its group are left (it could not take them), queue the
    next job for them. Returns whether one was queued."""
    left = WebhookEvent.objects.due().filter(division=division, topic=topic).order_by("pk").first()
    return left is not None and enqueue_for_group(left)
