"""Webhook bursts through the inbox and its coalescing jobs (sync/batches.py), in process: the
events are stored as the webhook view stores them and drained as a worker runs their jobs (the
HTTP side is the webhook-load phase's). Every limit on, on the simulated clock; rolled back.

- burst: n invoice events at once, their API calls per 1,000 events;
- month-end: n invoices posted within one minute in each of 3 divisions, the time until the
  last is on the board against the Monday-budget floor (points charged / budget a minute).
"""

from __future__ import annotations

from django.db.models import Max, Min

from integrations.benchmark import measure, verdicts
from integrations.benchmark.clock import SimulatedClock
from integrations.benchmark.world import (
    DIVISIONS,
    add_documents,
    add_webhook_events,
    build_world,
    drain,
    feed_rows,
)
from integrations.models import Entity, SyncedRecord, WebhookEvent
from integrations.sync import polling

POSTING_WINDOW_S = 60.0
# The company's documents already on the board before the burst: a route in use has been
# polled, so its cursor stands where a burst can be read through the feed (sync/read_plan.py).
EARLIER_DOCUMENTS = 20


def _caught_up(world, divisions) -> None:
    """The route as it is in use: earlier documents synced by its poll, the cursor set."""
    for division in divisions:
        add_documents(world, EARLIER_DOCUMENTS, division=division, seed=100 + division)
        polling.poll_division(world.route, division)


def _dead(keys: list[str]) -> int:
    """Events of these keys that ended dead or are still open: writes that did not happen."""
    return (
        WebhookEvent.objects.filter(exact_key__in=keys)
        .exclude(state__in=(WebhookEvent.State.DONE, WebhookEvent.State.IGNORED))
        .count()
    )


def run_burst(n: int, *, latency: float) -> dict:
    """n invoice events (a spread of lines) arriving together, drained by the inbox's jobs."""
    with SimulatedClock() as clock, measure.rolled_back():
        world = build_world()
        try:
            _caught_up(world, [world.division])
            keys = add_documents(world, n, seed=3)
            rows = feed_rows(world, Entity.SALES_INVOICE, keys)
            stored = add_webhook_events(world, keys)
            world.set_latency(latency)
            world.reset_counters()
            started = clock.now()
            states = drain()
            minutes = (clock.now() - started) / 60
            world.set_latency(0)
            exact_calls = len(world.exact.calls)
            monday = measure.monday_figures(list(world.monday.requests))
            tally = verdicts.board_tally(world, world.route, keys, failed=_dead(keys))
        finally:
            world.close()
    # The least Exact can answer: the burst's rows read through the sync feed.
    exact_floor = verdicts.feed_floor(rows["headers"] + rows["lines"])
    monday_floor = verdicts.monday_requests_floor(monday["total_complexity"])
    return {
        "n": n,
        "events": stored,
        "lines": rows["lines"],
        "jobs": sum(states.values()),
        "job_states": states,
        "tally": tally,
        "exact_calls": exact_calls,
        "exact_calls_per_1000": measure.per_1000(exact_calls, n),
        "exact_floor_calls": exact_floor,
        "exact_floor_per_1000": measure.per_1000(exact_floor, n),
        "monday_requests": monday["requests"],
        "monday_requests_per_1000": measure.per_1000(monday["requests"], n),
        "monday_floor_requests": monday_floor,
        "monday_floor_per_1000": measure.per_1000(monday_floor, n),
        "budget_exhausted_errors": monday["budget_exhausted_errors"],
        "simulated_minutes": round(minutes, 2),
    }


def _post_and_drain(world, clock: SimulatedClock, keys: dict[int, list[str]]) -> tuple[int, dict]:
    """Post the events evenly over the minute, one of each division in turn, while a worker
    runs the due jobs between arrivals (as the qcluster would): each pass posts the events whose
    time has come, then drains. Returns (events stored, the jobs' end states)."""
    divisions = list(keys)
    turns = zip(*keys.values(), strict=True)
    order = [(d, k) for batch in turns for d, k in zip(divisions, batch, strict=True)]
    start, step = clock.now(), POSTING_WINDOW_S / len(order)
    stored, states, posted = 0, {}, 0
    while posted < len(order):
        due = min(len(order), int((clock.now() - start) / step) + 1)
        if due <= posted:  # nothing arrived yet: the next event's time
            clock.advance(start + posted * step - clock.now())
            continue
        for division, key in order[posted:due]:
            stored += add_webhook_events(world, [key], division=division)
        posted = due
        for state, count in drain().items():
            states[state] = states.get(state, 0) + count
    for state, count in drain().items():
        states[state] = states.get(state, 0) + count
    return stored, states


def run_month_end(n: int, *, latency: float, divisions=DIVISIONS) -> dict:
    """n invoices posted within one minute in each division (their events spread evenly over
    the minute), drained by the inbox's jobs as they arrive; all must reach the route's board."""
    with SimulatedClock() as clock, measure.rolled_back():
        world = build_world(divisions=divisions)
        try:
            _caught_up(world, divisions)
            keys = {d: add_documents(world, n, division=d, seed=10 + d) for d in divisions}
            world.set_latency(latency)
            world.reset_counters()
            stored, states = _post_and_drain(world, clock, keys)
            world.set_latency(0)
            every = [k for ks in keys.values() for k in ks]
            monday = measure.monday_figures(list(world.monday.requests))
            tally = verdicts.board_tally(world, world.route, every, failed=_dead(every))
            span = WebhookEvent.objects.filter(exact_key__in=every).aggregate(
                first=Min("received_at")
            )
            last = SyncedRecord.objects.filter(exact_key__in=every).aggregate(last=Max("synced_at"))
            exact_calls = len(world.exact.calls)
        finally:
            world.close()
    elapsed = (
        (last["last"] - span["first"]).total_seconds() / 60
        if last["last"] and span["first"]
        else None
    )
    floor = verdicts.monday_minutes_floor(monday["total_complexity"])
    return {
        "n_per_division": n,
        "divisions": len(divisions),
        "events": stored,
        "job_states": states,
        "tally": tally,
        "elapsed_minutes": round(elapsed, 2) if elapsed is not None else None,
        "floor_minutes": round(floor, 2),
        "ratio_to_floor": round(elapsed / floor, 3) if elapsed and floor else None,
        "refused": monday["refused"],
        "monday_error_codes": monday["error_codes"],
        "monday_requests": monday["requests"],
        "exact_calls": exact_calls,
    }
