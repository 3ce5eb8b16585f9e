"""Sync runs (a first backfill, "Sync now"): start, count each batch, pause, resume, finish.

The poll (polling.py) asks `run_for_poll` which run it counts into, calls `record_batch` after
each batch it wrote (the cursor is saved by then), and stops there when `record_batch` says a
pause was asked for. A paused run holds the route's scheduled polls too, until it is resumed;
webhooks still bring single changes across meanwhile (they are not part of the backfill).
"""

from __future__ import annotations

import logging
from datetime import date

from django.db.models import F
from django.utils import timezone

import audit
from integrations.errors import IntegrationError
from integrations.models import PollCursor, Route, SyncRun

logger = logging.getLogger(__name__)
State = SyncRun.State

# A first backfill without a start date reads everything Exact holds: count from long ago.
EVERYTHING_SINCE = date(1900, 1, 1)


def open_run(route: Route) -> SyncRun | None:
    return route.sync_runs.filter(state__in=SyncRun.OPEN_STATES).order_by("-created_at").first()


def _enqueue(route: Route) -> None:
    from django_q.tasks import async_task

    async_task("integrations.tasks.poll_route", route.pk, group=f"poll:{route.pk}")


def start_run(route: Route, *, user=None) -> SyncRun:
    """ "Sync now": a run of the route, queued for a worker. An open run is returned instead
    (a paused one is resumed), so pressing twice never starts two. Audited."""
    run = open_run(route)
    if run is not None:
        if run.state == State.PAUSED:
            resume_run(run, user=user)
        return run
    kind = SyncRun.Kind.BACKFILL if _is_backfill(route) else SyncRun.Kind.MANUAL
    run = SyncRun.objects.create(route=route, kind=kind, requested_by=user)
    audit.record("sync.started", actor=user, obj=route, after={"run": run.pk, "kind": kind})
    _enqueue(route)
    return run


def _is_backfill(route: Route) -> bool:
    """True while any selected division has never had a poll that ended well (an empty feed
    leaves the cursor at its start, so the Timestamp cannot tell)."""
    codes = set(route.divisions.filter(selected=True).values_list("code", flat=True))
    started = PollCursor.objects.filter(
        route=route, feed=route.entity, division__in=codes, last_success_at__isnull=False
    ).values_list("division", flat=True)
    return bool(codes - set(started))


def run_for_poll(route: Route, client) -> SyncRun | None:
    """The run a poll of the route counts into: the open one, or a new first-backfill run when
    the route has not been read from the start. None for a routine poll. A paused run is
    returned as it is: the caller skips the poll."""
    run = open_run(route)
    if run is None:
        if not _is_backfill(route):
            return None
        run = SyncRun.objects.create(route=route, kind=SyncRun.Kind.BACKFILL)
        audit.record("sync.started", actor="poll", obj=route, after={"run": run.pk})
    if run.state == State.PAUSED:
        return run
    if run.pause_requested:  # asked for while it waited for a worker
        _mark_paused(run)
        return run
    now = timezone.now()
    changes = {"state": State.RUNNING, "updated_at": now, "last_error": ""}
    if run.started_at is None:
        changes["started_at"] = now
        changes["expected"] = expected_total(route, client)
    SyncRun.objects.filter(pk=run.pk).update(**changes)
    run.refresh_from_db()
    return run


def expected_total(route: Route, client) -> int | None:
    """About how many documents this run will read, or None when Exact cannot tell.

    The sync feeds carry no total, so each division's regular endpoint is asked for a count of
    the documents modified since the run's starting point (one call per division): the
    backfill date (or everything) on a first backfill, the last successful poll otherwise. It
    is an estimate: Modified and the feed's Timestamp are different clocks, and documents keep
    changing while the run reads. Any error gives None and the screens say "so far" instead.
    """
    total = 0
    for code in route.divisions.filter(selected=True).values_list("code", flat=True):
        cursor = PollCursor.objects.filter(route=route, division=code, feed=route.entity).first()
        if cursor is None or cursor.timestamp <= 1 or cursor.last_success_at is None:
            since = route.backfill_from or EVERYTHING_SINCE
        else:
            since = cursor.last_success_at
        try:
            total += client.count_modified_since(route.entity, code, since)
        except IntegrationError as exc:
            logger.info(
                "sync.run.no_total",
                extra={"route_id": route.pk, "division": code, "error": type(exc).__name__},
            )
            return None
    return total


def record_batch(run: SyncRun, page, outcome) -> bool:
    """Count one written batch into the run. Returns True when the poll should stop here
    because a pause was asked for (the batch's cursor is already saved)."""
    SyncRun.objects.filter(pk=run.pk).update(
        read=F("read") + len(page.documents),
        written=F("written") + outcome.written,
        unchanged=F("unchanged") + outcome.unchanged,
        flagged=F("flagged") + outcome.flagged,
        failed=F("failed") + len(outcome.errors),
        batches=F("batches") + 1,
        feed_rows=F("feed_rows") + (page.rows or 0),
        updated_at=timezone.now(),
    )
    return pause_requested(run)


def pause_requested(run: SyncRun) -> bool:
    return SyncRun.objects.filter(pk=run.pk, pause_requested=True).exists()


def _mark_paused(run: SyncRun) -> None:
    now = timezone.now()
    SyncRun.objects.filter(pk=run.pk).update(state=State.PAUSED, paused_at=now, updated_at=now)
    run.refresh_from_db()


def stopped_for_pause(run: SyncRun) -> None:
    """The poll stopped at a batch boundary because of the pause: the run is paused now."""
    _mark_paused(run)
    logger.info("sync.run.paused", extra={"route_id": run.route_id, "run_id": run.pk})


def request_pause(run: SyncRun, *, user=None) -> SyncRun:
    """Ask the run to pause at its next batch boundary. When no poll of the route is running,
    it is paused at once. Audited; idempotent."""
    if not run.is_open or run.state == State.PAUSED:
        return run
    SyncRun.objects.filter(pk=run.pk).update(pause_requested=True)
    polling_now = PollCursor.objects.filter(route_id=run.route_id, running_since__isnull=False)
    if run.state == State.QUEUED or not polling_now.exists():
        _mark_paused(run)
    run.refresh_from_db()
    audit.record("sync.paused", actor=user, obj=run.route, after={"run": run.pk})
    return run


def resume_run(run: SyncRun, *, user=None) -> SyncRun:
    """Continue a paused run from the saved cursors (a worker takes it up). Audited."""
    if run.state == State.RUNNING and run.pause_requested:  # not yet at the boundary: go on
        SyncRun.objects.filter(pk=run.pk).update(pause_requested=False)
        run.refresh_from_db()
        audit.record("sync.resumed", actor=user, obj=run.route, after={"run": run.pk})
        return run
    if run.state != State.PAUSED:
        return run
    now = timezone.now()
    paused_for = (now - run.paused_at).total_seconds() if run.paused_at else 0.0
    SyncRun.objects.filter(pk=run.pk).update(
        state=State.QUEUED,
        pause_requested=False,
        paused_at=None,
        paused_seconds=F("paused_seconds") + paused_for,
        updated_at=now,
    )
    run.refresh_from_db()
    audit.record("sync.resumed", actor=user, obj=run.route, after={"run": run.pk})
    _enqueue(run.route)
    return run


def continue_later(run: SyncRun) -> None:
    """The poll used its time slice: the run stays open and the next job takes it on."""
    SyncRun.objects.filter(pk=run.pk).update(updated_at=timezone.now())
    logger.info("sync.run.continued", extra={"route_id": run.route_id, "run_id": run.pk})
    _enqueue(run.route)


def finish_run(run: SyncRun) -> None:
    now = timezone.now()
    SyncRun.objects.filter(pk=run.pk, state=State.RUNNING).update(
        state=State.DONE, finished_at=now, updated_at=now, last_error=""
    )
    run.refresh_from_db()
    audit.record(
        "sync.finished",
        actor="poll",
        obj=run.route,
        after={"run": run.pk, "read": run.read, "written": run.written, "flagged": run.flagged},
    )


def run_interrupted(run: SyncRun, error: Exception) -> None:
    """The poll stopped on an error: the run stays open, and the next poll continues it from
    the saved cursors (the error shows until then)."""
    text = getattr(error, "message", "") or str(error)
    SyncRun.objects.filter(pk=run.pk).update(last_error=text[:500], updated_at=timezone.now())
