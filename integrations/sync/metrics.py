"""What /metrics exposes, computed from the database (and the broker) at each scrape.

Every figure is read from shared state at scrape time, never kept in a process: a scrape served
by any gunicorn worker on any machine sees the work of every qcluster. The inbox and item figures
are gauges (retention deletes old done events, so their totals can fall); API calls are counters
from ApiCallCount rows, which are never deleted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from integrations.models import (
    ApiCallCount,
    ConnectionStatus,
    ExactConnection,
    MondayBudget,
    MondayConnection,
    PollCursor,
    RateBudget,
    SyncedRecord,
    WebhookEvent,
)
from integrations.sync.health import queue_depth

PREFIX = "mlconnector"


def _gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", doc, labels=labels)


def webhook_metrics() -> Iterator[Metric]:
    by_state = dict(
        WebhookEvent.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n")
    )
    received = _gauge(
        "webhook_events_received",
        "Webhook events in the inbox (done ones leave after RETENTION_DAYS).",
        [],
    )
    received.add_metric([], sum(by_state.values()))
    yield received
    events = _gauge("webhook_events", "Webhook events in the inbox by state.", ["state"])
    for state in WebhookEvent.State.values:
        events.add_metric([state], by_state.get(state, 0))
    yield events


def item_metrics() -> Iterator[Metric]:
    rows = (
        SyncedRecord.objects.exclude(monday_item_id="")
        .values_list("route__name", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    items = _gauge(
        "items",
        "Monday.com items written, by route and state (flagged: needs review).",
        ["route", "state"],
    )
    for route, state, n in rows:
        items.add_metric([route, state], n)
    yield items


def api_call_metrics() -> Iterator[Metric]:
    calls = CounterMetricFamily(
        f"{PREFIX}_api_calls",
        "Calls to Exact Online and Monday.com by status.",
        labels=["system", "status"],
    )
    errors = CounterMetricFamily(
        f"{PREFIX}_api_errors",
        "Calls that got no 2xx answer (timeout, unreachable, 4xx, 5xx).",
        labels=["system", "status"],
    )
    for row in ApiCallCount.objects.order_by("system", "status"):
        calls.add_metric([row.system, row.status], row.count)
        if not row.status.startswith("2"):
            errors.add_metric([row.system, row.status], row.count)
    yield calls
    yield errors


def exact_budget_metrics(now) -> Iterator[Metric]:
    left = _gauge(
        "exact_calls_left_today",
        "Exact Online calls left today per connection and division (the daily limit once the "
        "day has reset).",
        ["connection", "division"],
    )
    for budget in RateBudget.objects.select_related("connection").exclude(division=0):
        fresh = budget.daily_reset_at is None or budget.daily_reset_at <= now
        remaining = (
            budget.daily_limit
            if fresh or budget.daily_remaining is None
            else (budget.daily_remaining)
        )
        left.add_metric([budget.connection.name, str(budget.division)], remaining)
    yield left


def monday_budget_metrics(now) -> Iterator[Metric]:
    left = _gauge(
        "monday_budget_left",
        "Monday.com complexity points left in this minute's window, per connection.",
        ["connection"],
    )
    calls = _gauge(
        "monday_calls_left_today",
        "Monday.com calls left today under MONDAY_DAILY_CALL_LIMIT, per connection.",
        ["connection"],
    )
    daily_limit = settings.MONDAY_DAILY_CALL_LIMIT
    for budget in MondayBudget.objects.select_related("connection"):
        name = budget.connection.name
        fresh = budget.reset_at is None or budget.reset_at <= now
        remaining = budget.limit if fresh else budget.remaining
        if remaining is not None:
            left.add_metric([name], remaining)
        if daily_limit:
            used = budget.daily_calls if budget.daily_day == now.date() else 0
            calls.add_metric([name], max(daily_limit - used, 0))
    yield left
    if daily_limit:
        yield calls


def connection_metrics() -> Iterator[Metric]:
    reauth = _gauge(
        "connection_needs_reauthorization",
        "1 while a connection waits for an admin to re-authorize it.",
        ["system", "connection"],
    )
    for system, model in (("exact", ExactConnection), ("monday", MondayConnection)):
        for name, status in model.objects.values_list("name", "status"):
            reauth.add_metric([system, name], int(status == ConnectionStatus.NEEDS_REAUTH))
    yield reauth


def queue_metrics() -> Iterator[Metric]:
    depth = queue_depth()
    queued = _gauge("queue_depth", "Jobs waiting in django-q2's queue.", ["broker"])
    if depth["queued"] is not None:
        queued.add_metric([depth["broker"]], depth["queued"])
    yield queued


def poll_lag_metrics(now) -> Iterator[Metric]:
    """Seconds since each route and division last polled its feeds successfully (the feed that
    is furthest behind; a cursor that never succeeded counts from the route's creation)."""
    lag = _gauge(
        "poll_lag_seconds",
        "Now minus the last successful poll, per route and division.",
        ["route", "division"],
    )
    rows = (
        PollCursor.objects.filter(route__enabled=True)
        .values("route__name", "route__created_at", "division")
        .annotate(oldest=Min("last_success_at"), never=Count("id") - Count("last_success_at"))
        .order_by()
    )
    for row in rows:
        since = row["route__created_at"] if row["never"] else row["oldest"]
        lag.add_metric([row["route__name"], str(row["division"])], _seconds(now - since))
    yield lag


def _seconds(delta: timedelta) -> float:
    return max(delta.total_seconds(), 0.0)


class DatabaseCollector:
    """A prometheus_client collector that reads every figure at scrape time."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        yield from webhook_metrics()
        yield from item_metrics()
        yield from api_call_metrics()
        yield from exact_budget_metrics(now)
        yield from monday_budget_metrics(now)
        yield from connection_metrics()
        yield from queue_metrics()
        yield from poll_lag_metrics(now)


__all__ = ["DatabaseCollector"]
