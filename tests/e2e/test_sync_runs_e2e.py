"""A long backfill paused and resumed against the sandboxes (every limit on): the pause takes
effect at a batch boundary with the cursor saved, the scheduled poll leaves a paused route
alone, and the resumed run brings the rest across, each invoice once."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from integrations import tasks
from integrations.models import PollCursor, SyncedRecord, SyncRun
from integrations.sync import polling, runs

pytestmark = pytest.mark.django_db

INVOICES = 450


@pytest.fixture
def backfill(stack):
    stack.connect(divisions=((101, "Amsterdam"),))
    stack.add_reference_data()
    route = stack.route()
    stack.map(route, "gl_account", "8000", "8000 Revenue")
    stack.map(route, "gl_account", "8100", "8100 Services")
    stack.map(route, "cost_center", "KP-100", "KP-100")
    stack.exact.webhooks_enabled = False
    stack.exact.bulk_add_sales_invoices(101, INVOICES, lines_per_invoice=3)
    return stack, route


def _pause_after_batches(monkeypatch, run, user, n):
    """A person presses Pause while batch `n` is being written."""
    real = runs.record_batch
    seen = []

    def record_batch(r, page, outcome):
        seen.append(len(page.documents))
        if len(seen) == n:
            runs.request_pause(run, user=user)
        return real(r, page, outcome)

    monkeypatch.setattr(runs, "record_batch", record_batch)
    return seen


def test_a_paused_backfill_stops_at_a_batch_boundary_and_resumes_to_completion(
    backfill, monkeypatch, staff_user
):
    stack, route = backfill
    run = runs.start_run(route, user=staff_user)
    assert run.kind == SyncRun.Kind.BACKFILL and run.state == SyncRun.State.QUEUED
    seen = _pause_after_batches(monkeypatch, run, staff_user, 2)

    first = tasks.poll_route(route.pk)  # the worker takes the queued job

    run.refresh_from_db()
    assert first[101]["paused"] is True
    assert run.state == SyncRun.State.PAUSED
    assert run.expected == INVOICES  # Exact's count of the invoices to read
    written = 2 * polling.WRITE_BATCH
    assert seen == [polling.WRITE_BATCH] * 2  # stopped after the batch it was in
    assert run.read == written and run.written == written
    assert SyncedRecord.objects.filter(route=route).count() == written
    assert len(stack.items()) == written
    cursor = PollCursor.objects.get(route=route, division=101, feed="sales_invoice")
    assert 1 < cursor.timestamp < stack.exact.store.rowversion  # saved at the boundary
    assert cursor.running_since is None  # released: nothing holds the route

    # The scheduled poll respects the pause: no reads from Exact, no writes to Monday.
    exact_calls, monday_requests = len(stack.exact.calls), len(stack.monday.requests)
    assert tasks.poll_route(route.pk) == {"skipped": "paused"}
    assert len(stack.exact.calls) == exact_calls
    assert len(stack.monday.requests) == monday_requests

    runs.resume_run(run, user=staff_user)
    run.refresh_from_db()
    assert run.state == SyncRun.State.QUEUED
    tasks.poll_route(route.pk)

    run.refresh_from_db()
    assert run.state == SyncRun.State.DONE and run.finished_at is not None
    assert run.read == INVOICES and run.written == INVOICES and run.failed == 0
    keys = [item["texts"]["exact_key"] for item in stack.items()]
    assert len(keys) == INVOICES and len(set(keys)) == INVOICES  # nothing lost, nothing twice
    records = SyncedRecord.objects.filter(route=route)
    assert records.exclude(monday_item_id="").count() == INVOICES
    assert not records.filter(state=SyncedRecord.State.FAILED).exists()
    assert run.flagged == records.filter(state=SyncedRecord.State.FLAGGED).count() > 0
    actions = list(
        AuditEvent.objects.filter(action__startswith="sync.")
        .order_by("pk")
        .values_list("action", "actor_user__username")
    )
    assert actions == [
        ("sync.started", "admin"),
        ("sync.paused", "admin"),
        ("sync.resumed", "admin"),
        ("sync.finished", None),
    ]


def test_a_first_scheduled_poll_is_a_backfill_run_and_a_caught_up_poll_makes_none(backfill):
    stack, route = backfill
    tasks.poll_route(route.pk)
    run = SyncRun.objects.get()
    assert run.kind == SyncRun.Kind.BACKFILL and run.state == SyncRun.State.DONE
    assert run.read == INVOICES and run.expected == INVOICES
    tasks.poll_route(route.pk)  # routine: nothing new, no run recorded
    assert SyncRun.objects.count() == 1


def test_sync_now_while_paused_resumes_the_same_run(backfill, monkeypatch, staff_user):
    stack, route = backfill
    run = runs.start_run(route, user=staff_user)
    _pause_after_batches(monkeypatch, run, staff_user, 1)
    tasks.poll_route(route.pk)
    again = runs.start_run(route, user=staff_user)
    assert again.pk == run.pk
    again.refresh_from_db()
    assert again.state == SyncRun.State.QUEUED and not again.pause_requested
    monkeypatch.undo()
    tasks.poll_route(route.pk)
    run.refresh_from_db()
    assert run.state == SyncRun.State.DONE and run.read == INVOICES
    assert SyncRun.objects.count() == 1


def test_a_backfill_longer_than_a_job_continues_in_the_next_job_without_losing_any(
    backfill, settings
):
    from django_q.models import OrmQ

    stack, route = backfill
    # A 50 s job timeout gives 30 s slices; writing 450 items waits out Monday's budget
    # window (on the shared clock) at least once, so the run needs more than one job.
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 50}
    queued = OrmQ.objects.count()
    first = tasks.poll_route(route.pk)
    run = SyncRun.objects.get()
    assert first[101]["continued"] is True
    assert run.state == SyncRun.State.RUNNING and 0 < run.read < INVOICES
    assert OrmQ.objects.count() == queued + 1  # the next job is queued
    assert (
        PollCursor.objects.get(route=route, division=101, feed="sales_invoice").running_since
        is None
    )
    jobs = 1
    while run.state != SyncRun.State.DONE and jobs < 20:
        tasks.poll_route(route.pk)
        run.refresh_from_db()
        jobs += 1
    assert run.state == SyncRun.State.DONE and run.read == INVOICES
    keys = [item["texts"]["exact_key"] for item in stack.items()]
    assert len(keys) == INVOICES and len(set(keys)) == INVOICES
