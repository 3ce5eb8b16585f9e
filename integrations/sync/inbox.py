"""The webhook inbox: receive (store once, enqueue), process with our own retry state.

Shared state: each event, its claim (state=processing, claimed_at), attempts and next attempt
live in its WebhookEvent row (PostgreSQL); a worker claims events with a conditional UPDATE,
so a job delivered twice (the ORM broker's at-least-once, or a re-queue) is worked once. The
queue itself is the broker's: the OrmQ table, or Redis with Q_BROKER=redis; losing a queued
job loses nothing, as job_queue.enqueue_due_events re-queues from the rows.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import nullcontext
from datetime import timedelta
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

import audit
from audit import correlation
from integrations import waits
from integrations.errors import IntegrationError, RateLimited, ReadOn, ReconnectRequired
from integrations.exact.webhooks import WebhookNotification
from integrations.models import ConnectionStatus, WebhookEvent
from integrations.sync import batches, job_queue, routing

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
State = WebhookEvent.State


def backoff(attempts: int) -> timedelta:
    """30 s, 1, 2, 4, 8 min ... capped at 30 min."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


def dedupe_key(n: WebhookNotification) -> str:
    # Reference: exact-online.md §7.6: duplicates happen; identity is (Division, Topic, Key,
    # Action, EventCreatedOn).
    raw = f"{n.division}|{n.topic}|{n.key}|{n.action}|{n.event_created_on}"
    return hashlib.sha256(raw.encode()).hexdigest()


def receive_webhook_event(
    n: WebhookNotification, *, raw_body: str, client_id: str
) -> tuple[WebhookEvent, bool]:
    """Store a verified notification once and queue its job. Returns (event, created).

    Idempotent: a redelivery returns the stored event with created=False and queues nothing.
    Events no route needs are stored as ignored, with the reason, so they stay visible.
    """
    reason = ""
    if client_id and n.client_id and n.client_id.lower() != client_id.lower():
        reason = "ClientId is not this app's client id."
    elif n.topic not in routing.TOPIC_ENTITIES:
        reason = f"Topic {n.topic} is not synced by ml-connector."
    elif not routing.has_routes(n.topic, n.division):
        reason = f"No enabled route syncs {n.topic} for division {n.division}."
    state = State.IGNORED if reason else State.PENDING
    fields = dict(
        dedupe_key=dedupe_key(n),
        topic=n.topic,
        action=n.action,
        division=n.division,
        exact_key=n.key,
        raw_body=raw_body,
        state=state,
        reason=reason,
    )
    # The row is the record of the receipt (the audit trail records what the job then changes,
    # under this event's correlation id). In a burst nearly every event rides on the job
    # already queued for its division and topic: one INSERT, committed on its own.
    queue = state == State.PENDING and not job_queue.job_waiting(n.division, n.topic)
    try:
        if queue:
            with transaction.atomic():  # the job's row commits with the event's (ORM broker)
                event = WebhookEvent.objects.create(**fields)
                job_queue.enqueue_for_group(event)
        else:
            with _savepoint_in_a_transaction():
                event = WebhookEvent.objects.create(**fields)
    except IntegrityError:
        return WebhookEvent.objects.get(dedupe_key=fields["dedupe_key"]), False
    return event, True


def _savepoint_in_a_transaction():
    """Outside a transaction (a webhook's request) a statement commits on its own, without the
    BEGIN and COMMIT round trips; inside a caller's, a duplicate must not break it."""
    return transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()


def _claim(event: WebhookEvent) -> bool:
    """Take the event for this worker with a conditional UPDATE; False if another has it."""
    claimed = WebhookEvent.objects.filter(pk=event.pk, state=State.PENDING).update(
        state=State.PROCESSING,
        attempts=event.attempts + 1,
        next_attempt_at=None,
        claimed_at=timezone.now(),
    )
    if claimed:
        event.refresh_from_db()
    return bool(claimed)


def _limit_wait(exc: IntegrationError) -> float | None:
    """Seconds until the API limit that refused the work resets (at least one), or 0 for
    events a job left when its time was up (ReadOn: due at once, the job that ends queues the
    next); None for a failure."""
    if isinstance(exc, ReadOn):
        return 0.0
    return max(exc.retry_after, 1.0) if isinstance(exc, RateLimited) else None


def _finish(
    event: WebhookEvent,
    state: str,
    *,
    error: str = "",
    retry: bool = False,
    wait: float | None = None,
) -> str:
    event.state = state
    event.last_error = error
    if retry and wait is not None:
        # Refused by a limit (Exact's or Monday.com's daily calls): no failure, so no attempt
        # spent; the event waits for the reset, however far, and is written then.
        event.state = State.PENDING
        event.attempts = max(event.attempts - 1, 0)
        event.next_attempt_at = timezone.now() + timedelta(seconds=wait)
    elif retry and event.attempts < MAX_ATTEMPTS:
        event.state = State.PENDING
        event.next_attempt_at = timezone.now() + backoff(event.attempts)
    elif retry:
        event.state = State.DEAD
    event.processed_at = timezone.now() if event.state in (State.DONE, State.DEAD) else None
    event.save(update_fields=["state", "last_error", "next_attempt_at", "processed_at", "attempts"])
    if event.state == State.DEAD:
        audit.record(
            "webhook.dead",
            actor="worker",
            obj=event,
            division=event.division,
            message=error,
            correlation_id=f"webhook:{event.pk}",
        )
    return event.state


def run_job(event_id: int) -> str:
    """The worker's job for an event: the event and every due one of its division and topic
    (job_queue.py: one job serves a burst, one job of a group runs at a time). Returns the
    event's state, "skipped", or "deferred" when another job of the group is running (it queues
    the next job when it ends)."""
    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is None:
        return "skipped"
    turn = job_queue.take_turn(event.division, event.topic)
    if turn is None:
        return "deferred"
    try:
        if event.state in (State.DONE, State.IGNORED):
            return "skipped"
        return process_webhook_event(event, wait=True)
    finally:
        job_queue.end_turn(event.division, event.topic, turn)
        job_queue.queue_leftovers(event.division, event.topic)


def process_webhook_event(event: WebhookEvent, *, wait: bool = False) -> str:
    """Sync every route the event feeds, with every due event of its division and entity
    (sync/batches.py); returns the event's new state. Idempotent.

    While the division's daily Exact calls run short, a fresh event first waits a read window
    for others (batches.hold_for_company) and comes back pending. With `wait` (the worker's
    job) the job that opened the window waits it out and then reads every event in it; the
    events that joined the window are left to that job.
    """
    with correlation.bound(f"webhook:{event.pk}"):
        return _process(event, wait)


def _process(event: WebhookEvent, wait: bool) -> str:
    routes = list(routing.routes_for(event.topic, event.division))
    until, leads = batches.hold_for_company(event, routes)
    if until is not None:
        if not (wait and leads):
            return event.state
        waits.sleep(max((until - timezone.now()).total_seconds(), 0.0))
    if not _claim(event):  # another worker has it, or it is no longer pending
        event.refresh_from_db(fields=["state"])
        return event.state
    # Due events of the same division and entity go along: read and written together, through
    # the sync feed where that costs fewer calls (then every due event goes along).
    through_feed = batches.plan_reads(event, routes) if routes else set()
    limit = batches.MAX_FEED_BATCH if through_feed else batches.MAX_BATCH
    events = [event, *batches.claim_siblings(event, limit=limit)]
    if not routes:
        return _finish_all(events, State.IGNORED, "No enabled route syncs this event any more.")
    if any(r.exact_connection.status != ConnectionStatus.CONNECTED for r in routes):
        return _finish_all(events, State.WAITING, "Exact Online needs re-authorization.")
    if any(r.monday_connection.status != ConnectionStatus.CONNECTED for r in routes):
        return _finish_all(events, State.WAITING, "Monday.com needs to be reconnected.")
    ended: set[int] = set()

    def written(keys: set[str]) -> None:
        # A long feed read ends its events page by page: the inbox shows the progress, and a
        # job killed part-way leaves only the unwritten ones to its retry.
        page = [
            each
            for each in events
            if each.pk not in ended and each.action != "delete" and _key(each) in keys
        ]
        _finish_done(page)
        ended.update(each.pk for each in page)

    def still_open() -> list[WebhookEvent]:
        return [each for each in events if each.pk not in ended]

    try:
        failed = batches.sync_events(routes, events, through_feed=through_feed, on_written=written)
    except ReconnectRequired as exc:
        _finish_all(still_open(), State.WAITING, str(exc))
        return event.state
    except IntegrationError as exc:
        logger.warning(
            "inbox.event.failed",
            extra={"event_id": event.pk, "error_class": type(exc).__name__},
        )
        _finish_all(still_open(), State.DEAD, str(exc), retry=exc.retryable, wait=_limit_wait(exc))
        return event.state
    except Exception:  # outermost boundary: record the failure, never drop the events
        logger.exception("inbox.event.crashed", extra={"event_id": event.pk})
        _finish_all(still_open(), State.DEAD, "Unexpected error; see the server log.", retry=True)
        return event.state
    _finish_done([each for each in still_open() if each.pk not in failed])
    for each in still_open():
        exc = failed.get(each.pk)
        if exc is not None:
            logger.warning(
                "inbox.event.failed",
                extra={"event_id": each.pk, "error_class": type(exc).__name__},
            )
            _finish(each, State.DEAD, error=str(exc), retry=exc.retryable, wait=_limit_wait(exc))
    return event.state


def _key(event: WebhookEvent) -> str:
    """The event's key as the sync layer writes it (a lowercase UUID); "" when malformed."""
    try:
        return str(UUID(str(event.exact_key)))
    except ValueError:
        return ""


def _finish_done(events: list[WebhookEvent]) -> None:
    """These events are done: one statement for a batch of them (a burst ends hundreds)."""
    now = timezone.now()
    WebhookEvent.objects.filter(pk__in=[each.pk for each in events]).update(
        state=State.DONE, last_error="", next_attempt_at=None, processed_at=now
    )
    for each in events:
        each.state, each.last_error = State.DONE, ""
        each.next_attempt_at, each.processed_at = None, now


def _finish_all(
    events: list[WebhookEvent], state: str, error: str, *, retry=False, wait=None
) -> str:
    """The same end for every event of a batch; returns the first (the job's own) event's."""
    for each in events:
        _finish(each, state, error=error, retry=retry, wait=wait)
    return events[0].state
