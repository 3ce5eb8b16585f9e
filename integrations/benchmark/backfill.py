"""Backfill of N invoices through the real polling path, with every API call counted."""

from __future__ import annotations

from integrations.benchmark import measure
from integrations.benchmark.world import add_invoices, build_world
from integrations.models import SyncedRecord
from integrations.sandbox.monday_store import MAX_ITEMS_PER_BOARD
from integrations.sync import polling


def limits_off_for(n: int) -> tuple[set[str], set[str]]:
    """(Exact, Monday) sandbox limits a backfill of n switches off; every other one stays on.

    complexity_budget: this phase measures the pipeline's own pace and the budget that pace
    would demand (budget_demand_x); the budget phase measures pacing with every limit on.
    Scaling sizes beyond what one board holds (10,000 items) measure the pipeline, not a real
    board: there board_items and daily_calls (a basic plan's 1,000 calls a day) are off too, and
    Exact's minutely limit (their 4 calls per 1,000 invoices pass 60).
    """
    exact, monday = set(), {"complexity_budget"}
    if n > MAX_ITEMS_PER_BOARD:
        exact, monday = {"minutely"}, monday | {"board_items", "daily_calls"}
    return exact, monday


def run_backfill(n: int, *, latency: float) -> dict:
    """Poll a division holding n invoices (3 lines each) into an empty board (limits: see
    limits_off_for). Everything written to the database is rolled back afterwards."""
    with measure.rolled_back():
        exact_off, monday_off = limits_off_for(n)
        world = build_world(exact_limits_off=exact_off, monday_limits_off=monday_off)
        try:
            add_invoices(world, n)
            world.set_latency(latency)
            world.reset_counters()
            with measure.Timer() as timer:
                counts = polling.poll_division(world.route, world.division)
            world.set_latency(0)
            exact_calls = len(world.exact.calls)
            monday = measure.monday_figures(list(world.monday.requests))
            items = world.items()
            synced = SyncedRecord.objects.filter(route=world.route).count()
        finally:
            world.close()
    budget_minutes = timer.wall / 60
    return {
        "n": n,
        "latency_ms": round(latency * 1000),
        "documents": counts.get("documents", 0),
        "written": counts.get("written", 0),
        "failed": counts.get("failed", 0),
        "items_on_board": len(items),
        "distinct_keys_on_board": len({i["texts"].get("exact_key") for i in items}),
        "synced_records": synced,
        "exact_calls": exact_calls,
        "exact_calls_per_1000": measure.per_1000(exact_calls, n),
        **{f"monday_{k}": v for k, v in monday.items()},
        "monday_requests_per_1000": measure.per_1000(monday["requests"], n),
        # With the budget off: how many times the per-minute budget this pace would need.
        "budget_demand_x": round(
            monday["total_complexity"] / (measure.MONDAY_MINUTE_BUDGET * budget_minutes), 2
        )
        if budget_minutes
        else 0.0,
        "wall_s": round(timer.wall, 2),
        "records_per_s": round(n / timer.wall, 1) if timer.wall else 0.0,
        "cpu_ms_per_record": round(timer.cpu * 1000 / n, 3),
        "app_cpu_ms_per_record": round(timer.thread_cpu * 1000 / n, 3),
        "peak_rss_mb": round(timer.rss_after_mb, 1),
        "rss_growth_mb": round(timer.rss_after_mb - timer.rss_before_mb, 1),
    }
