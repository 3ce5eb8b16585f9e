"""Monday's per-minute complexity budget: how much of it a backfill uses with the limits on.

Every limit on, on the simulated clock (clock.py): the product and the sandbox share it and every
wait for the budget's window moves it, so a minute of budget passes in no wall time.
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

from integrations.benchmark import measure
from integrations.benchmark.clock import SimulatedClock
from integrations.benchmark.world import add_invoices, build_world
from integrations.monday import client as monday_client
from integrations.sandbox.monday_complexity import Window
from integrations.sync import polling

SCHEMA = Path(monday_client.__file__).with_name("schema.graphql")
WINDOW = 60.0


def run_budget(n: int, *, latency: float) -> dict:
    """Backfill n invoices (3 lines each) with every limit on, on the simulated clock: the
    budget's windows pass in no wall time. Rolled back afterwards."""
    with SimulatedClock() as clock, measure.rolled_back():
        world = build_world()
        try:
            add_invoices(world, n)
            # Let the window the setup's calls opened expire: the backfill starts a fresh one.
            clock.advance(WINDOW)
            charges = measure.BudgetCharges(world.monday.budget_per_minute)
            world.set_latency(latency)
            with mock.patch.object(Window, "charge", charges.charge):
                started = clock.now()
                counts = polling.poll_division(world.route, world.division)
                ended = clock.now()
            world.set_latency(0)
            requests = list(world.monday.requests)
            items = len(world.items())
        finally:
            world.close()
    figures = measure.monday_figures(requests)
    windows = charges.shares()
    full = windows[:-1]  # the last window ends with the backfill, not with the minute
    minutes = (ended - started) / WINDOW
    return {
        "n": n,
        "latency_ms": round(latency * 1000),
        "written": counts.get("written", 0),
        "items_on_board": items,
        "simulated_minutes": round(minutes, 2),
        "items_per_minute": round(items / minutes, 1) if minutes else 0.0,
        "windows": len(windows),
        "full_window_shares": [round(w, 4) for w in full],
        "budget_share_full_windows": round(sum(full) / len(full), 4) if full else None,
        # Over the whole run; below 1 minute the budget never had to bind, so it means nothing.
        "budget_share_overall": round(
            figures["total_complexity"] / (world.monday.budget_per_minute * minutes), 4
        )
        if minutes >= 1
        else None,
        "budget_exhausted_errors": figures["budget_exhausted_errors"],
        "monday_requests": figures["requests"],
        "max_request_complexity": figures["max_request_complexity"],
        "ingest_items": ingest_items_in_schema(),
    }


def ingest_items_in_schema() -> dict:
    """Whether the pinned schema offers a bulk import mutation."""
    text = SCHEMA.read_text()
    return {
        "schema": str(SCHEMA.relative_to(SCHEMA.parents[2])),
        "api_version": monday_client.API_VERSION,
        "ingest_items": "ingest_items" in text,
        "create_items_bulk": any(f" {name}(" in text for name in ("create_items", "bulk_create")),
    }
