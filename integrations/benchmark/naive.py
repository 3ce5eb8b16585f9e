"""The naive backfill per-record integrations do: per invoice, GET the header, GET its lines,
send one create_item mutation. Same clients, same item builder, same sandboxes."""

from __future__ import annotations

import uuid

from integrations import sync
from integrations.benchmark import measure
from integrations.benchmark.clock import SimulatedClock
from integrations.benchmark.world import add_invoices, build_world
from integrations.exact import connections as exact_connections
from integrations.exact import odata
from integrations.exact import responses as exact_responses
from integrations.exact.entities import parse_document, parse_line
from integrations.exact.specs import spec_for
from integrations.monday import client as monday_client
from integrations.monday import queries
from integrations.monday.columns import encode_column_values
from integrations.sync import item_builder
from mappings.resolve import load_context


def run_naive(n: int, *, latency: float) -> dict:
    """Backfill n invoices one record at a time. Rolled back afterwards."""
    # Every limit on: Exact's 60 calls a minute pace the 2 calls a record on the simulated
    # clock, so the waiting costs no wall time (it shows in simulated_minutes).
    with SimulatedClock() as clock, measure.rolled_back():
        world = build_world()
        try:
            keys = add_invoices(world, n)
            world.set_latency(latency)
            world.reset_counters()
            started = clock.now()
            with measure.Timer() as timer:
                for key in keys:
                    _one_record(world, key)
            minutes = (clock.now() - started) / 60
            world.set_latency(0)
            exact_calls = len(world.exact.calls)
            monday = measure.monday_figures(list(world.monday.requests))
            items = len(world.items())
        finally:
            world.close()
    return {
        "n": n,
        "sampled": True,
        "latency_ms": round(latency * 1000),
        "items_on_board": items,
        "exact_calls": exact_calls,
        "exact_calls_per_1000": measure.per_1000(exact_calls, n),
        "monday_requests": monday["requests"],
        "monday_requests_per_1000": measure.per_1000(monday["requests"], n),
        "monday_max_request_complexity": monday["max_request_complexity"],
        "api_calls_per_1000": measure.per_1000(exact_calls + monday["requests"], n),
        "simulated_minutes": round(minutes, 2),
        "wall_s": round(timer.wall, 2),
        "records_per_s": round(n / timer.wall, 1) if timer.wall else 0.0,
        "cpu_ms_per_record": round(timer.cpu * 1000 / n, 3),
        "app_cpu_ms_per_record": round(timer.thread_cpu * 1000 / n, 3),
    }


def _one_record(world, key: str) -> None:
    route, division = world.route, world.division
    spec = spec_for(route.entity)
    exact = exact_connections.for_connection(route.exact_connection)
    header = exact.get(
        spec.header_path,
        division=division,
        params={
            "$filter": odata.eq(spec.key_field, odata.guid(uuid.UUID(key))),
            "$select": odata.select(spec.header_select),
            "$top": "1",
        },
    )
    lines = exact.get(
        spec.lines_path,
        division=division,
        params={
            "$filter": odata.eq(spec.line_parent_field, odata.guid(uuid.UUID(key))),
            "$select": odata.select(spec.line_select),
        },
    )
    (row,), _ = exact_responses.collection(header)
    rows, _ = exact_responses.collection(lines)
    doc = parse_document(spec, division, row, [parse_line(spec, r) for r in rows])
    item = item_builder.build_item(
        route, doc, load_context(route, division), sync.board_columns(route)
    )
    monday = monday_client.for_connection(route.monday_connection)
    monday.execute(
        queries.CREATE_ITEM,
        {
            "board_id": route.board_id,
            "group_id": item.group_id,
            "item_name": item.name,
            "column_values": encode_column_values(item.column_values),
        },
    )
