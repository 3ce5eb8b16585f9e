"""The day phases: a working day of webhooks on a simulated clock, with every limit on.

Documents are posted in Exact at random moments over `hours`; each sends its signed webhook to
our endpoint at that moment. The worker (the qcluster's job, run in this process) takes the due
inbox events at once, as a worker polling the queue would; the schedules run at their times on
the same clock: retry-due-events every minute, the route's poll every `poll_interval_minutes`,
and the daily jobs (keep-alive, reference data, division moves, webhook subscriptions) once.

The clock is time-machine's travel with tick=True: real processing time passes on it too, and
every wait of the product (integrations.waits.sleep) moves it instead of sleeping, so a limit is
waited out in no real time. Webhook-to-item latency is simulated time from the event's arrival
(WebhookEvent.received_at) to the first time its document is on the board
(SyncedRecord.synced_at). After the last arrival the run goes on until the inbox is empty or the
day ends at midnight (Exact's daily count resets then): what is not on the board by then is
missing.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from unittest import mock

from django.test import Client, override_settings
from django.utils import timezone
from django.utils.module_loading import import_string

from integrations.benchmark import measure
from integrations.benchmark.clock import SimulatedClock
from integrations.benchmark.webhook_load import signed_body
from integrations.benchmark.world import build_world
from integrations.models import (
    ConnectionStatus,
    ExactConnection,
    Route,
    SyncedRecord,
    WebhookEvent,
)
from integrations.schedules import SCHEDULES, route_schedules
from integrations.sync import job_queue

EXACT_DAILY_LIMIT = 5000  # calls a day per division (exact-online.md §4)
# The day starts on a fixed date at 08:00 UTC, with the morning's setup before it.
DAY_START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
SETUP_LEAD = timedelta(minutes=10)
OPEN = (WebhookEvent.State.PENDING, WebhookEvent.State.PROCESSING)


# The Monday.com account of a firm posting 1,000 to 10,000 documents a day: a Pro plan's 10,000
# calls a day (support.monday.com; Basic's 1,000 cannot carry a document a call). The sandbox
# enforces it and the product is told it, as an admin would set MONDAY_DAILY_CALL_LIMIT.
MONDAY_PLAN_CALLS = 10_000


def run_day(documents: int, *, hours: float = 8.0, seed: int = 0) -> dict:
    """One day: `documents` sales invoices trickled over `hours`; rolled back afterwards."""
    rng = random.Random(seed)
    span = hours * 3600
    offsets = sorted(rng.uniform(0, span) for _ in range(documents))
    with (
        measure.rolled_back(),
        SimulatedClock(DAY_START - SETUP_LEAD) as clock,
        mock.patch.object(job_queue, "async_task"),  # the worker here takes the due events itself
        override_settings(MONDAY_DAILY_CALL_LIMIT=MONDAY_PLAN_CALLS),
    ):
        world = build_world()
        world.monday.daily_call_limit = MONDAY_PLAN_CALLS
        # Routes and connections of earlier phases point at sandboxes that are gone: off for
        # the day, so the daily jobs see only this day's (rolled back with the rest).
        Route.objects.exclude(pk=world.route.pk).update(enabled=False)
        ExactConnection.objects.exclude(pk=world.exact_conn.pk).update(
            status=ConnectionStatus.NOT_CONNECTED
        )
        try:
            day = _Day(world, clock)
            day.run(
                [DAY_START + timedelta(seconds=s) for s in offsets],
                DAY_START + timedelta(seconds=span),
            )
            result = day.figures()
        finally:
            world.close()
    result.update(documents=documents, hours=hours, seed=seed)
    return result


class _Day:
    def __init__(self, world, clock: SimulatedClock) -> None:
        self.world, self.clock = world, clock
        self.client = Client(HTTP_HOST="127.0.0.1")
        self.keys: list[str] = []
        self.first_on_board: dict[str, datetime] = {}
        self.seen_until = DAY_START - SETUP_LEAD
        self.post_errors = 0
        self.job_errors: list[str] = []
        self.poll_runs = 0
        self.exact_start = len(world.exact.calls)
        self.monday_start = len(world.monday.requests)
        self.real_start = time.perf_counter()
        # The day's events only: the database may hold other phases' (committed) events.
        last = WebhookEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
        self.events = WebhookEvent.objects.filter(pk__gt=last or 0)

    # --- the timeline ------------------------------------------------------------------

    def run(self, arrivals: list[datetime], end: datetime) -> None:
        """Until `end` (the working day's last minute), then until the inbox is empty."""
        every = [s for s in SCHEDULES + route_schedules() if s.minutes and s.name != "heartbeat"]
        due = {s.name: DAY_START + timedelta(minutes=s.minutes) for s in every}
        self.clock.to(DAY_START)
        for spec in SCHEDULES:
            if spec.daily_at:  # each runs once a day; their night-time hours are outside the day
                self._run_job(spec)
        midnight = DAY_START.replace(hour=23, minute=59)
        pending = list(arrivals)
        while True:
            wake = self._next_retry()
            candidates = [*due.values(), *pending[:1], *([wake] if wake else [])]
            moment = min(candidates)
            if moment >= midnight or (not pending and moment > end and not self._open()):
                break
            self.clock.to(moment)
            now = timezone.now()
            while pending and pending[0] <= now:
                self._arrive(pending.pop(0))
            for spec in every:
                if due[spec.name] <= now:
                    self._run_job(spec)
                    while due[spec.name] <= now:  # on its cadence; missed runs are not caught up
                        due[spec.name] += timedelta(minutes=spec.minutes)
            self._work()
            self._observe()
        self.ended_at = timezone.now()

    def _arrive(self, moment: datetime) -> None:
        division = self.world.division
        (key,) = self.world.exact.bulk_add_sales_invoices(division, 1, seed=len(self.keys))
        key = key.lower()
        self.keys.append(key)
        response = self.client.post(
            "/webhooks/exact/",
            data=signed_body(key, division),
            content_type="application/json",
            secure=True,
        )
        if response.status_code != 200:
            self.post_errors += 1

    def _run_job(self, spec) -> None:
        if spec.func.endswith("poll_route"):
            self.poll_runs += 1
        try:
            import_string(spec.func)(**spec.kwargs)
        except Exception as exc:  # a failing job is a figure, not the end of the run  # noqa: BLE001
            self.job_errors.append(f"{spec.name}: {type(exc).__name__}: {exc}"[:200])

    def _work(self) -> None:
        """The worker: the job of each due event, oldest first (each takes its siblings)."""
        from integrations.tasks import process_webhook_event

        done: set[int] = set()
        while True:
            pk = (
                self.events.due()
                .exclude(pk__in=done)
                .order_by("pk")
                .values_list("pk", flat=True)
                .first()
            )
            if pk is None:
                return
            done.add(pk)
            try:
                process_webhook_event(pk)
            except Exception as exc:  # noqa: BLE001 - the qcluster would log it and go on
                self.job_errors.append(f"event {pk}: {type(exc).__name__}: {exc}"[:200])

    def _next_retry(self) -> datetime | None:
        return (
            self.events.filter(state=WebhookEvent.State.PENDING)
            .exclude(next_attempt_at=None)
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )

    def _open(self) -> bool:
        return self.events.filter(state__in=OPEN).exists()

    def _observe(self) -> None:
        """The first moment each document is on the board."""
        rows = SyncedRecord.objects.filter(
            route=self.world.route, synced_at__gte=self.seen_until
        ).values_list("exact_key", "synced_at")
        for key, synced_at in rows:
            self.first_on_board.setdefault(key.lower(), synced_at)
            self.seen_until = max(self.seen_until, synced_at)

    # --- the figures -------------------------------------------------------------------

    def figures(self) -> dict:
        division = f"/{self.world.division}/"
        exact = [c for c in self.world.exact.calls[self.exact_start :] if division in c[1]]
        refused = sum(1 for c in exact if c[2] == 429)
        # Exact counts every call it answered (not its 429s) against the day's 5,000; the
        # morning's setup (connection, reference data) is part of the day.
        answered = sum(1 for c in self.world.exact.calls if division in c[1] and c[2] != 429)
        monday = measure.monday_figures(self.world.monday.requests[self.monday_start :])
        received = dict(
            WebhookEvent.objects.filter(exact_key__in=self.keys).values_list(
                "exact_key", "received_at"
            )
        )
        states: dict[str, int] = {}
        for state in WebhookEvent.objects.filter(exact_key__in=self.keys).values_list(
            "state", flat=True
        ):
            states[state] = states.get(state, 0) + 1
        on_board = {i["texts"].get("exact_key") for i in self.world.items()}
        missing = [k for k in self.keys if k not in on_board]
        delays = [
            (self.first_on_board[k] - received[k]).total_seconds()
            for k in self.keys
            if k in received and k in self.first_on_board
        ]
        # A document that never reached the board counts as infinitely late.
        delays += [float("inf")] * (len(self.keys) - len(delays))
        p = measure.percentile
        return {
            "webhooks_posted": len(self.keys),
            "webhook_post_errors": self.post_errors,
            "inbox_events": len(received),
            "event_states": states,
            "items_on_board": len(on_board & set(self.keys)),
            "failed_records": SyncedRecord.objects.filter(
                route=self.world.route, state=SyncedRecord.State.FAILED
            ).count(),
            "missing": len(missing),
            "p50_s": _finite(p(delays, 50)),
            "p95_s": _finite(p(delays, 95)),
            "max_s": _finite(max(delays, default=None)),
            "exact_calls_answered": answered,
            "exact_refused_429": refused,
            "exact_daily_share": round(answered / EXACT_DAILY_LIMIT, 4),
            "monday_requests": monday["requests"],
            "monday_error_codes": monday["error_codes"],
            "poll_runs": self.poll_runs,
            # The least Exact could be asked for the day's documents: their rows through the
            # sync feed (1,000 a call; a header and 3 lines each) and each poll's two feeds.
            "exact_floor_calls": -(-len(self.keys) * 4 // 1000) + 2 * self.poll_runs,
            "job_errors": len(self.job_errors),
            "job_error_samples": self.job_errors[:5],
            "simulated_hours": round((self.ended_at - DAY_START).total_seconds() / 3600, 2),
            "real_s": round(time.perf_counter() - self.real_start, 1),
        }


def _finite(value: float | None) -> float | None:
    """Seconds rounded; None when not measured or when the percentile is a missing document."""
    if value is None or value == float("inf"):
        return None
    return round(value, 2)
