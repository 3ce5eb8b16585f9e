"""Polling: read Exact's sync feeds from the stored cursor, write in batches, then move on.

Shared state: the cursor (Timestamp) and the poll claim of each (route, division, feed) live in
its PollCursor row (PostgreSQL). A poll claims it with one conditional UPDATE of running_since,
so two workers on two machines never poll the same feed at once; a claim older than
STALE_CLAIM (a worker that died) may be taken over.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

import audit
from audit import correlation
from integrations import sync
from integrations.exact import connections as exact_connections
from integrations.models import PollCursor, Route, SyncRun
from integrations.monday.batching import CREATES_PER_REQUEST
from integrations.sync import runs

logger = logging.getLogger(__name__)

# A claim older than this belongs to a poll whose worker died; the next run may take over.
STALE_CLAIM = timedelta(minutes=15)
DELETED_FEED = "Deleted"
# Documents written per batch: the cursor is saved, the run's progress counted and a pause
# honoured after each. Smaller than Exact's 1,000-row feed pages (the calls to Exact stay the
# same) so progress moves every 20 s or so at Monday's pace and a pause takes effect as soon;
# three full Monday requests (as many item writes as the batch builder packs under its ceiling,
# 33), so no batch ends in a request of a few items: 1,200 invoices cost 37 Monday requests
# (38 in batches of 1,000, 48 in batches of 100; Exact: 6 calls in each case).
WRITE_BATCH = 3 * CREATES_PER_REQUEST
# A run (a backfill, Sync now) works in slices shorter than the job timeout (Q_TIMEOUT, which
# kills the worker): at the first batch boundary past the slice it saves the cursor, lets go
# and queues the next job, instead of being killed and leaving its claim for STALE_CLAIM.
SLICE_OF_TIMEOUT = 0.6


def slice_deadline() -> float:
    """When a long job stops at its next batch boundary and leaves the rest to the next job,
    well before the cluster's timeout kills it mid-write."""
    return time.monotonic() + settings.Q_CLUSTER["timeout"] * SLICE_OF_TIMEOUT


def claim_cursor(cursor: PollCursor) -> bool:
    """Conditional UPDATE: only one poll of a (route, division, feed) runs at a time."""
    now = timezone.now()
    return bool(
        PollCursor.objects.filter(pk=cursor.pk)
        .filter(Q(running_since__isnull=True) | Q(running_since__lt=now - STALE_CLAIM))
        .update(running_since=now, last_run_at=now)
    )


def release_cursor(cursor: PollCursor, *, error: str = "") -> None:
    fields = {"running_since": None, "last_error": error}
    if not error:
        fields["last_success_at"] = timezone.now()
    PollCursor.objects.filter(pk=cursor.pk).update(**fields)


def poll_route(route: Route) -> dict:
    """Poll every selected division of the route. Returns counts per division."""
    with correlation.bound(f"poll:{route.pk}"):
        return _poll_route(route)


def _poll_route(route: Route) -> dict:
    if not route.exact_connection.is_usable:
        logger.info("poll.skipped.needs_reauth", extra={"route_id": route.pk})
        reason = "Exact Online needs re-authorization"
        if (run := runs.open_run(route)) is not None:
            text = "Exact Online needs to be authorized again (Exact Online connections)."
            runs.run_interrupted(run, RuntimeError(text))
        return {"skipped": reason}
    client = exact_connections.for_connection(route.exact_connection)
    run = runs.run_for_poll(route, client)
    if run is not None and run.state == SyncRun.State.PAUSED:
        logger.info("poll.skipped.paused", extra={"route_id": route.pk})
        return {"skipped": "paused"}
    results = {}
    deadline = slice_deadline() if run is not None else None
    try:
        for division in route.divisions.filter(selected=True).values_list("code", flat=True):
            results[division] = poll_division(route, division, run=run, deadline=deadline)
            if results[division].get("paused"):
                return results
            if results[division].get("continued"):
                runs.continue_later(run)
                return results
    except Exception as exc:
        if run is not None:
            runs.run_interrupted(run, exc)
        raise
    # A division another poll was still reading is that poll's to finish (it counts into the
    # same run); a run is done only when this poll read every division to the end.
    if run is not None and not any("skipped" in r for r in results.values()):
        runs.finish_run(run)
    return results


def poll_division(
    route: Route,
    division: int,
    *,
    max_pages: int | None = None,
    run: SyncRun | None = None,
    deadline: float | None = None,
) -> dict:
    """Bring one division's changes (and deletions) across. Idempotent and resumable:
    the cursor moves only after each page's documents are written to Monday. With a run, each
    batch is counted into it, and a pause asked for stops the poll after the batch (the result
    then has "paused": True); so does passing `deadline` (time.monotonic(); "continued")."""
    with correlation.bound(f"poll:{route.pk}:{division}"):
        return _poll_division(route, division, max_pages, run, deadline)


def _poll_division(route: Route, division: int, max_pages, run, deadline) -> dict:
    cursor, _ = PollCursor.objects.get_or_create(route=route, division=division, feed=route.entity)
    if not claim_cursor(cursor):
        return {"skipped": "another poll is running"}
    cursor.refresh_from_db()
    counts = {"documents": 0, "written": 0, "unchanged": 0, "flagged": 0, "failed": 0, "pages": 0}
    client = exact_connections.for_connection(route.exact_connection)
    try:
        if cursor.timestamp <= 1 and route.backfill_from:
            start = client.sync_timestamp_for(route.entity, division, route.backfill_from)
            if start:
                cursor.timestamp = max(1, start - 1)  # SyncTimestamp names the first row to read
        if run is not None and runs.pause_requested(run):
            return _paused(cursor, run, counts)
        pages = client.iter_changes(
            route.entity, division, since=cursor.timestamp, per_page=WRITE_BATCH
        )
        for page in pages:
            # Exact's sales-order feed carries only the changed lines: the item's cost center and
            # subitems are derived from every line, so complete them, by key batch.
            documents = client.complete_documents(route.entity, division, page.documents)
            outcome = sync.write_documents(
                route, documents, via="poll", correlation_id=f"poll:{route.pk}:{division}"
            )
            retryable = [e for e in outcome.errors if e.retryable]
            if retryable:
                raise retryable[0]  # the cursor stays before this page
            _count(counts, page, outcome)
            cursor.timestamp = max(cursor.timestamp, page.max_timestamp)
            PollCursor.objects.filter(pk=cursor.pk).update(
                timestamp=cursor.timestamp,
                records_written=cursor.records_written + counts["written"],
            )
            if run is not None and runs.record_batch(run, page, outcome):
                pages.close()  # the generator's reads end here; the cursor is saved
                return _paused(cursor, run, counts)
            if deadline is not None and time.monotonic() > deadline:
                pages.close()
                release_cursor(cursor)
                return {**counts, "continued": True}
            if max_pages and counts["pages"] >= max_pages:
                break
        counts["deleted"] = _poll_deleted(route, division, client)
    except Exception as exc:
        release_cursor(cursor, error=str(exc)[:500])
        raise
    caught = route.records.filter(division=division, caught_by_polling=True).count()
    PollCursor.objects.filter(pk=cursor.pk).update(caught_by_polling=caught)
    release_cursor(cursor)
    if counts["written"]:
        audit.record("poll.completed", actor="poll", obj=route, division=division, after=counts)
    return counts


def _paused(cursor: PollCursor, run: SyncRun, counts: dict) -> dict:
    release_cursor(cursor)
    runs.stopped_for_pause(run)
    return {**counts, "paused": True}


def check_division_moves() -> int:
    """Daily: when Exact moved a division (its Timestamps regenerated), start its polling over.
    Returns how many (route, division) cursors were reset."""
    from integrations.exact.connections import check_division_moves as moved_divisions
    from integrations.models import ConnectionStatus, ExactConnection

    reset = 0
    for conn in ExactConnection.objects.filter(status=ConnectionStatus.CONNECTED):
        for code in moved_divisions(conn):
            for route in Route.objects.filter(exact_connection=conn, divisions__code=code):
                reset_division(route, code)
                reset += 1
    return reset


def _count(counts: dict, page, outcome) -> None:
    counts["pages"] += 1
    counts["documents"] += len(page.documents)
    counts["written"] += outcome.written
    counts["unchanged"] += outcome.unchanged
    counts["flagged"] += outcome.flagged
    counts["failed"] += len(outcome.errors)


def _poll_deleted(route: Route, division: int, client) -> int:
    """Mark items whose Exact record appears in sync/Deleted since the deletion cursor."""
    cursor, _ = PollCursor.objects.get_or_create(route=route, division=division, feed=DELETED_FEED)
    marked = 0
    for page in client.iter_deleted(division, since=cursor.timestamp, entity=route.entity):
        for key in page.keys:
            if sync.mark_deleted(
                route, division=division, exact_key=str(key), correlation_id="poll"
            ):
                marked += 1
        PollCursor.objects.filter(pk=cursor.pk).update(
            timestamp=max(cursor.timestamp, page.max_timestamp)
        )
        cursor.timestamp = max(cursor.timestamp, page.max_timestamp)
    return marked


def reset_division(route: Route, division: int, *, user=None) -> None:
    """Start a division over (after Exact moved it and regenerated every Timestamp). Safe:
    every record goes through the same upsert, so nothing is duplicated."""
    PollCursor.objects.filter(route=route, division=division).update(timestamp=1)
    # Stored row versions belong to the old numbering: forget them, or newer rows would look old.
    route.records.filter(division=division).update(exact_timestamp=None)
    audit.record("poll.cursor_reset", actor=user, obj=route, division=division)
