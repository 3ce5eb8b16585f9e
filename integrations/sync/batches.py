"""Webhook bursts coalesced: the job of one event takes every due event of the same division and
topic (entity) with it, reads their documents from Exact together (key-batched filters) and
writes their items in the poll's batched, idempotent requests. A lone event is a batch of one:
nothing waits for company. Each event still ends in its own state (inbox.py decides it)."""

from __future__ import annotations

import logging
from uuid import UUID

from django.db.models import F
from django.utils import timezone

from integrations.errors import IntegrationError, RemoteRejected
from integrations.models import SyncedRecord, WebhookEvent
from integrations.sync import records

logger = logging.getLogger(__name__)
State = WebhookEvent.State

# Events taken by one job. A batch is written under row locks in one transaction, as a poll
# page is; the cap keeps one job well inside the job timeout at Monday's pace. The rest of a
# larger burst is taken by the jobs of the events left behind.
MAX_BATCH = 200


def claim_siblings(event: WebhookEvent) -> list[WebhookEvent]:
    """Claim the other due events of the event's division and topic for this job, each with the
    same conditional UPDATE a single claim uses (so two jobs never take the same event)."""
    candidates = (
        WebhookEvent.objects.due()
        .filter(topic=event.topic, division=event.division)
        .exclude(pk=event.pk)
        .order_by("pk")
        .values_list("pk", flat=True)[: MAX_BATCH - 1]
    )
    now = timezone.now()
    claimed = [
        pk
        for pk in list(candidates)
        if WebhookEvent.objects.filter(pk=pk, state=State.PENDING).update(
            state=State.PROCESSING,
            attempts=F("attempts") + 1,
            next_attempt_at=None,
            claimed_at=now,
        )
    ]
    return list(WebhookEvent.objects.filter(pk__in=claimed).order_by("pk"))


def sync_events(routes, events: list[WebhookEvent]) -> dict[int, IntegrationError]:
    """Sync every route for these events (one division, one topic). Returns the failure of each
    event that failed on its own; an error that concerns the whole batch is raised."""
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
    read: dict[int, dict] = {}  # one read serves every route of the same Exact connection
    key_failures: dict[str, IntegrationError] = {}
    for route in routes:
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
        )
        for key, exc in outcome.failed.items():
            key_failures.setdefault(key, exc)
    for event in events:
        if keys.get(event.pk) in key_failures:
            failed[event.pk] = key_failures[keys[event.pk]]
    return failed
