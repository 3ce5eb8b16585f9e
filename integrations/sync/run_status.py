"""What the screens show of a sync run: counts, percent, time left and a sentence, as a dict
the route page, the admin home and their JSON endpoint share (one place for the wording)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format

from integrations.exact.ratelimit import SharedBudget
from integrations.models import Route, SyncRun
from integrations.monday.batching import MUTATION_COST
from integrations.monday.shared_budget import SharedMondayBudget
from integrations.sync import progress

State = SyncRun.State


def entity_nouns(route: Route) -> tuple[str, str]:
    """("sales invoice", "sales invoices") from the entity's label "Sales invoices"."""
    plural = route.get_entity_display().lower()
    return plural.removesuffix("s"), plural


def _seconds_until(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else max((moment - now).total_seconds(), 0.0)


def current_budgets(route: Route, now: datetime) -> progress.Budgets:
    """The route's budgets now. Exact's are per division and the divisions are read one after
    the other, so the tightest division stands for them."""
    exact = SharedBudget(route.exact_connection_id)
    states = [
        s
        for code in route.divisions.filter(selected=True).values_list("code", flat=True)
        if (s := exact.state(code)) is not None
    ]
    tight = min(
        states,
        key=lambda s: (s.daily_remaining is None, s.daily_remaining or 0),
        default=None,
    )
    monday = SharedMondayBudget(route.monday_connection_id).state()
    fields = {}
    if tight is not None:
        fields.update(
            exact_minute_left=tight.minutely_remaining,
            exact_minute_limit=tight.minutely_limit,
            exact_minute_reset_in=_seconds_until(tight.minutely_reset_at, now) or 60.0,
            exact_day_left=tight.daily_remaining,
            exact_day_reset_in=_seconds_until(tight.daily_reset_at, now),
        )
    if monday is not None:
        fields.update(
            monday_points_left=monday.remaining,
            monday_points_limit=monday.limit,
            monday_reset_in=_seconds_until(monday.reset_at, now) or 60.0,
            monday_blocked_for=_seconds_until(monday.daily_blocked_until, now) or 0.0,
        )
    return progress.Budgets(**fields)


def _working_seconds(run: SyncRun, now: datetime) -> float:
    if run.started_at is None:
        return 0.0
    end = run.finished_at or run.paused_at or now
    return max((end - run.started_at).total_seconds() - run.paused_seconds, 0.0)


def _time_left(run: SyncRun, remaining: int, rate: float | None, now: datetime):
    rows_per_doc = run.feed_rows / run.read if run.read and run.feed_rows else None
    points = MUTATION_COST
    if run.route.line_items == Route.LineItems.SUBITEMS:
        lines = max((rows_per_doc or progress.DEFAULT_ROWS_PER_DOCUMENT) - 1, 1)
        points = int(MUTATION_COST * (1 + lines))
    return progress.estimate_seconds_left(
        remaining,
        budgets=current_budgets(run.route, now),
        rows_per_document=rows_per_doc,
        points_per_document=points,
        documents_per_second=rate,
    )


def run_status(run: SyncRun, now: datetime | None = None) -> dict:
    """Everything the screens show of one run (JSON-serialisable)."""
    now = now or timezone.now()
    singular, plural = entity_nouns(run.route)
    finished = run.state == State.DONE
    counts = progress.Counts(
        read=run.read,
        on_board=run.written + run.unchanged,
        flagged=run.flagged,
        failed=run.failed,
        expected=run.expected,
    )
    working = _working_seconds(run, now)
    rate = run.read / working if run.batches and working > 0 else None
    remaining = progress.remaining_documents(counts)
    sentence = progress.progress_sentence(counts, singular, plural, finished=finished)
    detail = ""
    if run.state == State.RUNNING and remaining is not None:
        estimate = _time_left(run, remaining, rate, now)
        detail = f"{progress.duration_words(estimate.seconds)} left"
        if estimate.waits_for:
            detail += f" (waiting for {estimate.waits_for} to reset)"
    elif run.state == State.RUNNING:
        pace = progress.rate_words(rate, plural)
        detail = (pace + "; " if pace else "") + "Exact Online gives no total for this sync"
    headline = _headline(run, sentence, detail, plural, now)
    return {
        "id": run.pk,
        "route": run.route_id,
        "route_name": run.route.name,
        "kind": run.get_kind_display(),
        "nouns": [singular, plural],
        "state": run.state,
        "state_label": _state_label(run),
        "open": run.is_open,
        "percent": progress.percent_done(counts, finished=finished),
        "read": run.read,
        "expected": run.expected,
        "remaining": remaining,
        "on_board": counts.on_board,
        "flagged": run.flagged,
        "failed": run.failed,
        "headline": headline,
        "error": run.last_error,
        "can_pause": run.state in (State.QUEUED, State.RUNNING) and not run.pause_requested,
        "can_resume": run.state == State.PAUSED,
    }


def _state_label(run: SyncRun) -> str:
    if run.pause_requested and run.state == State.RUNNING:
        return "Pausing after the current batch"
    return run.get_state_display()


def _headline(run: SyncRun, sentence: str, detail: str, plural: str, now: datetime) -> str:
    if run.state == State.QUEUED:
        return f"Waiting for a worker to start reading the {plural} from Exact Online."
    if run.state == State.PAUSED:
        return f"Paused: {sentence}. Resume to continue where it stopped; nothing is lost."
    if run.state == State.DONE:
        took = progress.duration_words(_working_seconds(run, now)).removeprefix("about ")
        at = date_format(timezone.localtime(run.finished_at), "H:i T")
        return f"Done at {at} (took {took}): {sentence}."
    if run.batches == 0:
        return f"Reading the {plural} from Exact Online…"
    return f"{sentence}; {detail}." if detail else f"{sentence}."
