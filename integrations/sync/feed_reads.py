"""A burst of webhook events read through the route's sync feed from its cursor, as a poll reads
it, when that costs fewer calls than key batches (read_plan.feed_is_cheaper).

Every document the feed holds past the cursor is written: those the events told of as webhook
writes, the others as changes only the feed told of (a missed webhook). The cursor is claimed
as a poll claims it (one reader at a time) and moves past each page only once the page is
written; a page with a write to retry stops it there.

A key the feed does not hold changed at or before the cursor, and the cursor only ever moved
past a change once it was written: its item is current when its record says it was written
well. Only the other such keys (never written, a failed write, deleted since) are read by key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from integrations.exact import connections as exact_connections
from integrations.exact.specs import spec_for
from integrations.models import PollCursor, Route, SyncedRecord, WebhookEvent
from integrations.sync import polling, records

logger = logging.getLogger(__name__)
# Events whose documents lie past where a long read stopped are retried (records.SLICE_ENDED)
# and read from the cursor by their next job (or found written by another meanwhile).
Via = SyncedRecord.Via
WRITTEN = (SyncedRecord.State.SYNCED, SyncedRecord.State.FLAGGED)


def feed_backlog(route: Route, division: int, topic: str) -> int | None:
    """About how many documents the route's feed holds past its cursor: the keys of the events
    received since the feed was last read to its end. None when the feed is not to be read
    from a cursor now: no combined sync feed for the entity, never read yet, or being read."""
    spec = spec_for(route.entity)
    if not spec.sync_feeds or spec.sync_feeds[0].kind != "combined":
        return None  # sales orders: two feeds and a completion read; key batches cost less
    cursor = PollCursor.objects.filter(route=route, division=division, feed=route.entity).first()
    if cursor is None or cursor.timestamp <= 1 or cursor.last_success_at is None:
        return None  # the whole history lies past it
    if cursor.running_since is not None:
        return None
    since = WebhookEvent.objects.filter(
        division=division, topic=topic, received_at__gte=cursor.last_success_at
    )
    return since.values("exact_key").distinct().count()


def sync_through_feed(
    route: Route,
    division: int,
    topic: str,
    keys: list[str],
    *,
    deleted: set[str],
    correlation_id: str,
    on_written: Callable[[set[str]], None] | None = None,
) -> records.KeysOutcome | None:
    """Bring these records (normalised keys) across through the feed; per-key failures come
    back in `failed`. None when another reader has the cursor (read by key batch then).
    `on_written(keys)` hears, after each page, which of `keys` that page wrote."""
    cursor, _ = PollCursor.objects.get_or_create(route=route, division=division, feed=route.entity)
    if not polling.claim_cursor(cursor):
        return None
    cursor.refresh_from_db()
    since = cursor.last_success_at  # events before it told of changes the cursor has passed
    outcome = records.KeysOutcome()
    seen: set[str] = set()
    held_back = ""
    sliced = False
    deadline = polling.slice_deadline()
    wanted = set(keys)
    client = exact_connections.for_connection(route.exact_connection)
    pages = client.iter_changes(
        route.entity, division, since=cursor.timestamp, per_page=polling.WRITE_BATCH
    )
    try:
        for page in pages:
            docs = client.complete_documents(route.entity, division, page.documents)
            told = set(keys) | _told_of(division, topic, [str(d.key) for d in docs], since)
            done, retry = records.write_in_parts(
                route,
                docs,
                outcome,
                via=lambda doc, told=told: Via.WEBHOOK if str(doc.key) in told else Via.POLL,
                correlation_id=correlation_id,
                deadline=deadline,
                on_written=(lambda ks: on_written(ks & wanted)) if on_written else None,
            )
            seen.update(str(d.key) for d in docs[:done])
            if done < len(docs):  # time was up mid-page: the cursor stays before it
                sliced = True
                pages.close()
                break
            if retry or held_back:
                held_back = held_back or "A write is to be retried; the cursor waits before it."
                continue
            cursor.timestamp = max(cursor.timestamp, page.max_timestamp)
            PollCursor.objects.filter(pk=cursor.pk).update(timestamp=cursor.timestamp)
            if time.monotonic() > deadline:  # the rest goes to the events' next job
                sliced = True
                pages.close()
                break
    except Exception as exc:
        polling.release_cursor(cursor, error=str(exc)[:500])
        raise
    polling.release_cursor(cursor, error=held_back)
    rest = [k for k in keys if k not in seen and k not in deleted]
    if sliced:
        for key in rest:
            outcome.failed[key] = records.SLICE_ENDED
        rest = []
    current = set(
        SyncedRecord.objects.filter(route=route, exact_key__in=rest, state__in=WRITTEN)
        .exclude(monday_item_id="")
        .values_list("exact_key", flat=True)
    )
    rest = [k for k in rest if k not in current]
    if rest or deleted:
        more = records.sync_keys(
            route, division, rest, deleted=deleted, via=Via.WEBHOOK, correlation_id=correlation_id
        )
        outcome.records.update(more.records)
        outcome.failed.update(more.failed)
    logger.info(
        "sync.burst.feed",
        extra={"route_id": route.pk, "division": division, "events": len(keys), "read": len(seen)},
    )
    return outcome


def _told_of(division: int, topic: str, keys: list[str], since) -> set[str]:
    """The keys among these that a webhook event received since `since` told of (keys are
    stored as Exact sent them)."""
    variants = keys + [k.upper() for k in keys]
    found = WebhookEvent.objects.filter(division=division, topic=topic, exact_key__in=variants)
    if since is not None:
        found = found.filter(received_at__gte=since)
    return {k.lower() for k in found.values_list("exact_key", flat=True)}
