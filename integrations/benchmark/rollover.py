"""Boards that never fill up: n invoices polled into a route whose boards hold `limit` items
(Monday.com's 10,000 by default, the route's rollover limit the same). Every limit on, on the
simulated clock; rolled back."""

from __future__ import annotations

import math

from integrations.benchmark import measure, verdicts
from integrations.benchmark.clock import SimulatedClock
from integrations.benchmark.world import add_documents, build_world, route_boards
from integrations.sync import polling

BOARD_FULL = "ItemsLimitationException"


def run_rollover(n: int, *, limit: int, latency: float) -> dict:
    with SimulatedClock() as clock, measure.rolled_back():
        world = build_world(board_item_limit=limit)
        try:
            keys = add_documents(world, n, seed=5)
            world.set_latency(latency)
            world.reset_counters()
            started = clock.now()
            with measure.Timer() as timer:
                counts = polling.poll_division(world.route, world.division)
            minutes = (clock.now() - started) / 60
            world.set_latency(0)
            boards = route_boards(world.route)
            per_board = [len(world.monday.items(b)) for b in boards]
            requests = list(world.monday.requests)
            monday = measure.monday_figures(requests)
            full = sum((r.get("error_codes") or []).count(BOARD_FULL) for r in requests)
            tally = verdicts.board_tally(world, world.route, keys, failed=counts.get("failed", 0))
        finally:
            world.close()
    return {
        "n": n,
        "board_limit": limit,
        "boards": len(boards),
        "boards_needed": math.ceil(n / limit),
        "items_per_board": per_board,
        "tally": tally,
        "board_full_errors": full,
        "monday_error_codes": monday["error_codes"],
        "monday_requests": monday["requests"],
        "simulated_minutes": round(minutes, 2),
        "wall_s": round(timer.wall, 1),
    }
