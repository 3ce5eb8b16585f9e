"""Webhook bursts coalesced: the job of one event takes every due event of the same division and
topic (entity) with it, reads their documents from Exact together and writes their items in the
poll's batched, idempotent requests. Each event still ends in its own state (inbox.py decides).

How they are read is decided in read_plan.py: through the route's sync feed from its cursor or
by key-batched filters, whichever costs fewer calls; and while the division's daily calls run
short, a fresh event first waits a read window for others to join it (hold_for_company)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.errors import IntegrationError, RemoteRejected
from integrations.exact.ratelimit import SharedBudget
from integrations.exact.specs import spec_for
from integrations.models import SyncedRecord, WebhookEvent
from integrations.monday import shared_budget
from integrations.sync import feed_reads, polling, read_plan, records

logger = logging.getLogger(__name__)
State = WebhookEvent.State

# Events taken by one job. A batch is written under row locks in one transaction, as a poll
# page is; the cap keeps one job well inside the job timeout at Monday's pace. The rest of a
# larger burst is taken by the jobs of the events left behind.
MAX_BATCH = 200
# Events taken by a job that reads the feed: the feed is written page by page (1,000 documents
# each, as a poll writes it), and every due event whose document it holds is done with it.
MAX_FEED_BATCH = 1000


def hold_for_company(event: WebhookEvent, routes) -> tuple[datetime | None, bool]:
    """Whether the fresh event waits for others before it is read: (the end of its read window,
    whether this job opened the window), or (None, False) to read it now.

    The window's length is the longer of read_plan.read_window (the division's Exact calls
    left today) and read_plan.monday_window (the Monday.com account's calls left today). Events
    arriving while a window is open join it and are read with it, by the job that opened it.
    An event waits once: a retried or already waiting one is read when it is due.
    """
    if event.attempts or event.next_attempt_at is not None or not routes:
        return None, False
    now = timezone.now()
    state = SharedBudget(routes[0].exact_connection_id).state(event.division)
    window = max(read_plan.read_window(state, now), _monday_window(routes, now))
    if window <= 0:
        return None, False
    open_until = (
        WebhookEvent.objects.filter(
            state=State.PENDING,
            topic=event.topic,
            division=event.division,
            attempts=0,
            next_attempt_at__gt=now,
        )
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    until = open_until or now + timedelta(seconds=window)
    held = WebhookEvent.objects.filter(
        pk=event.pk, state=State.PENDING, next_attempt_at__isnull=True
    ).update(next_attempt_at=until)
    if not held:  # another job has taken it meanwhile
        return None, False
    event.next_attempt_at = until
    return until, open_until is None


def _monday_window(routes, now: datetime) -> float:
    budget = shared_budget.budget_for(routes[0].monday_connection_id)
    row = budget.state()
    calls = row.daily_calls if row is not None and row.daily_day == now.date() else 0
    return read_plan.monday_window(calls, budget.daily_limit, now)


def plan_reads(event: WebhookEvent, routes) -> set[int]:
    """The routes (ids) whose events are read through their sync feed: where that costs fewer
    calls than key batches for the events due now (read_plan.feed_is_cheaper)."""
    due = (
        WebhookEvent.objects.due()
        .filter(topic=event.topic, division=event.division)
        .exclude(pk=event.pk)[: MAX_FEED_BATCH - 1]
        .count()
    )
    return {
        route.pk
        for route in routes
        if read_plan.feed_is_cheaper(
            due + 1,
            feed_reads.feed_backlog(route, event.division, event.topic),
            bulk_lines=bool(spec_for(route.entity).bulk_lines_path),
        )
    }


def claim_siblings(event: WebhookEvent, *, limit: int = MAX_BATCH) -> list[WebhookEvent]:
    """Claim the other due events of the event's division and topic for this job (at most
    `limit` in all), in one statement: rows another job holds locked are skipped (PostgreSQL),
    and only rows still pending are taken, so two jobs never take the same event."""
    now = timezone.now()
    with transaction.atomic():
        candidates = list(
            WebhookEvent.objects.due()
            .filter(topic=event.topic, division=event.division)
            .exclude(pk=event.pk)
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[: limit - 1]
        )
        WebhookEvent.objects.filter(pk__in=candidates, state=State.PENDING).update(
            state=State.PROCESSING,
            attempts=F("attempts") + 1,
            next_attempt_at=None,
            claimed_at=now,
        )
    # Ours: claimed in the statement above (a job elsewhere that took one first set its own time).
    mine = WebhookEvent.objects.filter(pk__in=candidates, state=State.PROCESSING, claimed_at=now)
    return list(mine.order_by("pk"))


def sync_events(
    routes,
    events: list[WebhookEvent],
    *,
    through_feed: set[int] = frozenset(),
    on_written: Callable[[set[str]], None] | None = None,
) -> dict[int, IntegrationError]:
    """Sync every route for these events (one division, one topic): the routes in
    `through_feed` through their sync feed, the others by key batch. Returns the failure of each
    event that failed on its own; an error that concerns the whole batch is raised.

    With one route, `on_written(keys)` hears of keys written while a long feed read goes on
    (their events can end then); with several, an event ends only once every route wrote it."""
    division = events[0].division
    failed: dict[int, IntegrationError] = {}
    keys: dict[int, str] = {}
    for event in events:
        try:
            keys[event.pk] = str(UUID(str(event.exact_key)))
        except ValueError:
            failed[event.pk] = RemoteRejected(
                f"The notification's key {event.exact_key!r} is not an Exact Online key."
            )
    deleted = {keys[e.pk] for e in events if e.pk in keys and e.action == "delete"}
    changed = [k for k in dict.fromkeys(keys.values()) if k not in deleted]
    correlation_id = f"webhook:{events[0].pk}"
    if len(events) > 1:
        logger.info(
            "inbox.batch",
            extra={"event_id": events[0].pk, "events": len(events), "division": division},
        )
    deadline = polling.slice_deadline()  # past it, the rest is left to the next job
    read: dict[int, dict] = {}  # one read serves every route of the same Exact connection
    key_failures: dict[str, IntegrationError] = {}
    for route in routes:
        if route.pk in through_feed:
            outcome = feed_reads.sync_through_feed(
                route,
                division,
                events[0].topic,
                changed,
                deleted=deleted,
                correlation_id=correlation_id,
                on_written=on_written if len(routes) == 1 else None,
            )
            if outcome is not None:
                for key, exc in outcome.failed.items():
                    key_failures.setdefault(key, exc)
                continue  # else a poll is reading the feed: by key batch
        if route.exact_connection_id not in read:
            read[route.exact_connection_id] = records.read_documents(route, division, changed)
        outcome = records.sync_keys(
            route,
            division,
            changed,
            deleted=deleted,
            via=SyncedRecord.Via.WEBHOOK,
            correlation_id=correlation_id,
            documents=read[route.exact_connection_id],
            deadline=deadline,
            on_written=on_written if len(routes) == 1 else None,
        )
        for key, exc in outcome.failed.items():
            key_failures.setdefault(key, exc)
    for event in events:
        if keys.get(event.pk) in key_failures:
            failed[event.pk] = key_failures[keys[event.pk]]
    return failed
