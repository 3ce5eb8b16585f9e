"""Polling through the real path with every limit on, every API call counted: a backfill of each
entity, sales orders changed after their backfill, and invoices with their lines as subitems.
Each phase runs on the simulated clock (waiting out a limit costs no wall time) and is rolled
back afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from integrations.benchmark import measure, verdicts
from integrations.benchmark.clock import SimulatedClock
from integrations.benchmark.world import add_documents, build_world, feed_rows
from integrations.exact import connections as exact_connections
from integrations.models import Entity, Route
from integrations.sync import polling

ENTITIES = (Entity.SALES_INVOICE, Entity.PURCHASE_ORDER, Entity.SALES_ORDER)


def _feed_floor(entity: str, rows: dict) -> int:
    """Feed pages the documents need, plus the one call to the deleted feed."""
    if entity == Entity.SALES_ORDER:  # a header feed and a lines feed
        return verdicts.feed_floor(rows["headers"], rows["lines"]) + 1
    return verdicts.feed_floor(rows["headers"] + rows["lines"]) + 1


def run_backfill(
    n: int,
    *,
    latency: float,
    entity: str = Entity.SALES_INVOICE,
    lines: int | None = None,
    fault: Callable | None = None,
) -> dict:
    """Poll a division holding n documents of the entity (a spread of 1 to 10 lines, or `lines`
    each) into an empty board. `fault(world)` is called just before the poll (tests inject a
    failed write with it)."""
    with SimulatedClock() as clock, measure.rolled_back():
        world = build_world(entities=(entity,))
        try:
            keys = add_documents(world, n, entity=entity, lines=lines)
            rows = feed_rows(world, entity, keys)
            world.set_latency(latency)
            world.reset_counters()
            if fault:
                fault(world)
            started = clock.now()
            with measure.Timer() as timer:
                counts = polling.poll_division(world.route, world.division)
            minutes = (clock.now() - started) / 60
            world.set_latency(0)
            exact_calls = len(world.exact.calls)
            monday = measure.monday_figures(list(world.monday.requests))
            tally = verdicts.board_tally(world, world.route, keys, failed=counts.get("failed", 0))
        finally:
            world.close()
    floor = _feed_floor(entity, rows)
    return {
        "entity": entity,
        "n": n,
        "lines": rows["lines"],
        "latency_ms": round(latency * 1000),
        "documents": counts.get("documents", 0),
        "written": counts.get("written", 0),
        "tally": tally,
        "exact_calls": exact_calls,
        "exact_calls_per_1000": measure.per_1000(exact_calls, n),
        "exact_floor_calls": floor,
        "exact_floor_per_1000": measure.per_1000(floor, n),
        **{f"monday_{k}": v for k, v in monday.items()},
        "monday_requests_per_1000": measure.per_1000(monday["requests"], n),
        "monday_floor_minutes": round(verdicts.monday_minutes_floor(monday["total_complexity"]), 2),
        "simulated_minutes": round(minutes, 2),
        "waited_s": clock.waited_s,
        "wall_s": round(timer.wall, 2),
        "records_per_s": round(n / timer.wall, 1) if timer.wall else 0.0,
        "cpu_ms_per_record": round(timer.cpu * 1000 / n, 3),
        "app_cpu_ms_per_record": round(timer.thread_cpu * 1000 / n, 3),
        "peak_rss_mb": round(timer.rss_after_mb, 1),
        "rss_growth_mb": round(timer.rss_after_mb - timer.rss_before_mb, 1),
    }


def run_polling(n: int, *, latency: float) -> dict:
    """A backfill of n documents of every entity, each in its own world."""
    return {entity: run_backfill(n, latency=latency, entity=entity) for entity in ENTITIES}


def run_changed_orders(n: int, *, latency: float) -> dict:
    """n sales orders backfilled, then every one changed in Exact: the second poll's cost. The
    sales-order feed carries the changed headers only, so each changed order's lines are read
    again, by key batch from bulk/SalesOrder/SalesOrderLines (1,000 rows a page): the floor is
    the header feed's pages, the lines feed's call, and the key batches Exact's URL limit
    allows for every order at once (or the lines' 1,000-row pages, when more)."""
    entity = Entity.SALES_ORDER
    with SimulatedClock() as clock, measure.rolled_back():
        world = build_world(entities=(entity,))
        try:
            keys = add_documents(world, n, entity=entity)
            rows = feed_rows(world, entity, keys)
            first = polling.poll_division(world.route, world.division)
            for number, key in enumerate(keys):
                world.exact.update_sales_order(world.division, key, Description=f"Changed {number}")
            world.set_latency(latency)
            world.reset_counters()
            started = clock.now()
            counts = polling.poll_division(world.route, world.division)
            minutes = (clock.now() - started) / 60
            world.set_latency(0)
            exact_calls = len(world.exact.calls)
            monday = measure.monday_figures(list(world.monday.requests))
            failed = first.get("failed", 0) + counts.get("failed", 0)
            tally = verdicts.board_tally(world, world.route, keys, failed=failed)
            client = exact_connections.for_connection(world.exact_conn)
            batches = client.line_batches(entity, world.division, [uuid.UUID(k) for k in keys])
        finally:
            world.close()
    floor = verdicts.feed_floor(n) + 1 + max(batches, verdicts.feed_floor(rows["lines"]))
    return {
        "n": n,
        "lines": rows["lines"],
        "line_batches": batches,
        "written": counts.get("written", 0),
        "tally": tally,
        "exact_calls": exact_calls,
        "exact_calls_per_1000": measure.per_1000(exact_calls, n),
        "exact_floor_calls": floor,
        "exact_floor_per_1000": measure.per_1000(floor, n),
        "monday_requests": monday["requests"],
        "simulated_minutes": round(minutes, 2),
    }


def run_subitems(n: int, *, latency: float, lines: int = 3) -> dict:
    """n invoices of `lines` lines each, the lines as subitems: Monday requests of the backfill
    (the first subitem creates the board's subitems board: counted too)."""
    with SimulatedClock() as clock, measure.rolled_back():
        world = build_world(line_items=Route.LineItems.SUBITEMS)
        try:
            keys = add_documents(world, n, lines=lines)
            world.set_latency(latency)
            world.reset_counters()
            started = clock.now()
            counts = polling.poll_division(world.route, world.division)
            minutes = (clock.now() - started) / 60
            world.set_latency(0)
            monday = measure.monday_figures(list(world.monday.requests))
            tally = verdicts.board_tally(world, world.route, keys, failed=counts.get("failed", 0))
            subitems = sum(len(i["subitems"]) for i in world.items())
        finally:
            world.close()
    floor = verdicts.monday_requests_floor(monday["total_complexity"])
    return {
        "n": n,
        "lines_per_invoice": lines,
        "subitems": subitems,
        "tally": tally,
        "monday_requests": monday["requests"],
        "monday_requests_per_1000": measure.per_1000(monday["requests"], n),
        "monday_floor_requests": floor,
        "monday_floor_per_1000": measure.per_1000(floor, n),
        "monday_total_complexity": monday["total_complexity"],
        "budget_exhausted_errors": monday["budget_exhausted_errors"],
        "simulated_minutes": round(minutes, 2),
    }
