"""The inbox's jobs per division and topic: one queued for a burst, one running at a time;
and the jobs queued again: an event retried from the admin, and the minute's sweep.

A job takes every due event of its division and topic with it (batches.py). A job per event only
kept the workers busy turning down events another job had taken (at 200 webhooks a second, 200
jobs a second competing with the web server for the CPU and the database); and several jobs of
one group at once only split the same Exact and Monday.com budgets between them, each waiting
its turn inside the budget until the job timeout killed it with its events claimed.

Shared state: an InboxJob row per (division, topic).
- `queued_at` set: a job is queued and not started. A webhook that finds it set commits its
  event alone and rides on that job; one that does not sets it in the event's transaction with a
  conditional UPDATE, so of two webhooks at once exactly one queues a job.
- `running_since` set: a job is running. A job takes the turn with a conditional UPDATE (which
  also clears `queued_at`, so an event committed from then on queues the next job); a job that
  finds the turn taken ends at once and leaves `queued_at` as it is, so the events arriving
  meanwhile queue nothing more. The running job, when it ends, queues the next one itself if
  due events are left.
A job lost by the broker, or killed, leaves a mark set: a queued mark older than QUEUED_STALE
and a turn older than RUNNING_STALE (the job timeout and a margin) no longer count, and
retry-due-events (every minute) queues any event left behind.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone
from django_q.tasks import async_task

import audit
from integrations.models import ConnectionStatus, InboxJob, WebhookEvent
from integrations.sync import routing

QUEUED_STALE = timedelta(minutes=2)
# A claim older than this belongs to a worker that died mid-job (the job timeout plus margin).
STALE_CLAIM = timedelta(minutes=10)
State = WebhookEvent.State


def running_stale() -> timedelta:
    """A turn older than the job timeout belongs to a job that was killed."""
    return timedelta(seconds=settings.Q_CLUSTER["timeout"] + 60)


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


def _group(division: int | None, topic: str):
    return InboxJob.objects.filter(division=division, topic=topic)


def _take(division: int | None, topic: str, free: Q, **values) -> bool:
    """Set `values` on the group's row where `free` holds (a conditional UPDATE: of two callers
    at once, one wins). The row is created on the group's first use, looked up only then."""
    if _group(division, topic).filter(free).update(**values):
        return True
    if _group(division, topic).exists():
        return False
    with transaction.atomic():  # a savepoint: another webhook may create it first
        InboxJob.objects.get_or_create(division=division, topic=topic)
    return bool(_group(division, topic).filter(free).update(**values))


def _queued(now: datetime) -> Q:
    """A job of the group is queued and not started (a mark older than QUEUED_STALE belongs
    to a job the broker lost)."""
    return Q(queued_at__gte=now - QUEUED_STALE)


def job_waiting(division: int | None, topic: str) -> bool:
    """Whether a job of the division and topic is queued and not started: an event committed
    now rides on it. One read that waits on no lock; asked before the event's transaction.

    Committed after the job's look (the job started between this read and the INSERT), the
    event is queued by the job itself as it ends (queue_leftovers), or, should the job end
    first, by retry-due-events a minute later."""
    return _group(division, topic).filter(_queued(timezone.now())).exists()


def enqueue_for_group(event: WebhookEvent) -> bool:
    """Queue a job for the event unless one for its division and topic is queued and not
    started. Call inside the event's transaction. Returns whether a job was queued."""
    now = timezone.now()
    if not _take(event.division, event.topic, ~_queued(now), queued_at=now):
        return False  # another webhook queued it a moment ago
    enqueue(event.pk)
    return True


def take_turn(division: int | None, topic: str) -> datetime | None:
    """The group's turn for this job (its start time), or None while another job of the group
    runs. Taking it clears the queued mark: events from now on queue the next job."""
    now = timezone.now()
    free = Q(running_since__isnull=True) | Q(running_since__lt=now - running_stale())
    return now if _take(division, topic, free, running_since=now, queued_at=None) else None


def end_turn(division: int | None, topic: str, turn: datetime) -> None:
    """Give the turn back (unless it went stale and another job has it now)."""
    _group(division, topic).filter(running_since=turn).update(running_since=None)


def queue_leftovers(division: int | None, topic: str) -> bool:
    """After a job: when due events of its group are left (arrived meanwhile, or could not be
    taken), queue the next job for them, whatever the queued mark says (a job that found the
    turn taken left it set). Returns whether one was queued."""
    # A job that found the turn taken left the queued mark set for nothing: cleared first, so
    # that an event committed after the look below queues a job of its own.
    _group(division, topic).update(queued_at=None)
    left = WebhookEvent.objects.due().filter(division=division, topic=topic).order_by("pk").first()
    if left is None:
        return False
    _group(division, topic).update(queued_at=timezone.now())
    enqueue(left.pk)
    return True


def retry_event(event: WebhookEvent, *, user=None) -> None:
    """Put a dead (or waiting) event back in the queue now; audited."""
    with transaction.atomic():
        WebhookEvent.objects.filter(pk=event.pk).update(
            state=State.PENDING, next_attempt_at=None, attempts=0, last_error=""
        )
        audit.record(
            "webhook.retried",
            actor=user,
            obj=event,
            division=event.division,
            correlation_id=f"webhook:{event.pk}",
        )
        enqueue(event.pk)


def enqueue_due_events() -> int:
    """Queue events whose retry time has come, waiting events whose connection is back, and
    events whose worker died mid-job. Runs every minute. Returns how many were queued."""
    now = timezone.now()
    WebhookEvent.objects.filter(state=State.PROCESSING, claimed_at__lt=now - STALE_CLAIM).update(
        state=State.PENDING
    )
    # Waiting events go back to the queue once every route of their division and topic has its
    # connections back: one look per group, not per event (thousands wait while Exact needs
    # re-authorization).
    waiting = WebhookEvent.objects.filter(state=State.WAITING)
    down = ~Q(exact_connection__status=ConnectionStatus.CONNECTED) | ~Q(
        monday_connection__status=ConnectionStatus.CONNECTED
    )
    for division, topic in waiting.values_list("division", "topic").distinct().order_by():
        if routing.routes_for(topic, division).filter(down).exists():
            continue
        waiting.filter(division=division, topic=topic).update(state=State.PENDING)
    # Fresh events were queued on receipt; only re-queue retries and ones left behind: one job
    # per division and topic, as it takes the group's due events along (whatever the queue
    # mark says: this is the net under a job the broker lost).
    due = WebhookEvent.objects.due().filter(
        Q(attempts__gt=0) | Q(received_at__lt=now - timedelta(minutes=1))
    )
    firsts = list(due.values("division", "topic").annotate(first=Min("pk")).order_by("first"))
    with transaction.atomic():
        for group in firsts[:500]:
            enqueue(group["first"])
    return len(firsts[:500])
