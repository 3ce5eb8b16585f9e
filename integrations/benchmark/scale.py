"""`benchmark --workers 1,2,4`: the drain rate of a month-end burst per number of qcluster
workers, with every sandbox limit on and simulated API latency, over 20 Exact divisions.

Each step posts signed webhooks for fresh invoices in every division to gunicorn, starts one
qcluster with that many workers, and times the drain. While it drains, the sandboxes' request
logs are sampled, so each step can say what bound it: Monday's complexity budget of the token,
Exact's 60 calls a minute of one division, or neither (the workers themselves, waiting on API
latency and the database).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from integrations.benchmark import processes
from integrations.benchmark.latency import check_database
from integrations.benchmark.webhook_load import _open_events, post_at_rate, tally, wait_drained
from integrations.benchmark.world import COST_CENTERS, GL_CODE, GL_VALUE, World, build_world
from integrations.models import ExactDivision, WebhookEvent
from mappings.reference import refresh_reference_data
from mappings.services import set_mappings

DIVISIONS = 20
NEAR = 0.8  # a limit used to 80% or more in its busiest minute is what binds
EXACT_MINUTELY = 60


def run_scale(
    workers: list[int], *, latency: float, per_division: int, q_poll: float = 0.5, progress=print
) -> dict:
    """One drain per worker count; returns {"divisions", "per_division", "steps": [...]}."""
    check_database()
    logs = Path(tempfile.mkdtemp(prefix="mlc-scale-"))
    world = build_world()  # every limit on
    web = None
    try:
        divisions = _add_divisions(world)
        world.set_latency(latency)
        env = processes.child_env()
        port = processes.free_port()
        web = processes.start_gunicorn(port, workers=2, env=env, log=logs / "gunicorn.log")
        url = f"http://127.0.0.1:{port}/webhooks/exact/"
        steps = []
        for seed, count in enumerate(workers, start=10):
            if steps:  # each step starts with Monday's whole minute budget, as the first does
                time.sleep(61)
            steps.append(_step(world, url, divisions, count, per_division, seed, env, logs, q_poll))
            progress(scale_table({"steps": steps[-1:]}).splitlines()[-1])
    finally:
        processes.stop(web)
        world.close()
    return {
        "divisions": DIVISIONS,
        "per_division": per_division,
        "latency_ms": round(latency * 1000),
        "steps": steps,
        "logs": str(logs),
    }


def _add_divisions(world: World) -> list[int]:
    """19 more divisions beside the world's first, each with its reference data and mappings."""
    codes = [world.division + n for n in range(DIVISIONS)]
    for code in codes[1:]:
        world.exact.add_division(code, f"Division {code}")
        world.exact.add_gl_account(code, GL_CODE, "Revenue")
        for cc in COST_CENTERS:
            world.exact.add_cost_center(code, cc, f"Cost center {cc}")
        world.exact.add_account(code, "C001", f"Customer {code}")
        division = ExactDivision.objects.create(
            connection=world.exact_conn, code=code, name=f"Division {code}", selected=True
        )
        refresh_reference_data(division)
        world.route.divisions.add(division)
        set_mappings(world.route, division, "gl_account", [GL_CODE], GL_VALUE)
        for cc in COST_CENTERS:
            set_mappings(world.route, division, "cost_center", [cc], cc)
    return codes


def _step(world, url, divisions, workers, per_division, seed, env, logs, q_poll) -> dict:
    keys_by_division = {
        code: [
            k.lower() for k in world.exact.bulk_add_sales_invoices(code, per_division, seed=seed)
        ]
        for code in divisions
    }
    keys = [k for ks in keys_by_division.values() for k in ks]
    world.reset_counters()
    for code, ks in keys_by_division.items():
        post_at_rate(url, ks, code, rate=200.0)
    cluster = processes.start_qcluster(
        workers=workers, poll=q_poll, env=env, log=logs / f"qcluster-{workers}.log"
    )
    sampler = Sampler(world)
    try:
        _wait_first_claim(keys)  # the cluster's start-up is not drain time
        drain_s, undrained = wait_drained(keys, timeout=1800, stall=120, tick=sampler.sample)
        sampler.sample()
    finally:
        processes.stop(cluster)
    counts = tally(world, keys)
    busiest = sampler.busiest_minute()
    step = {
        "workers": workers,
        "events": len(keys),
        "drain_s": round(drain_s, 1),
        "events_per_s": round(len(keys) / drain_s, 2) if drain_s else None,
        "undrained": undrained,
        "exact_calls": len(world.exact.calls),
        "exact_refused": sum(1 for *_, status in world.exact.calls if status == 429),
        "monday_requests": len(world.monday.requests),
        "monday_refused": sum(1 for r in world.monday.requests if r["error_codes"]),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        **busiest,
        **counts,
    }
    step["binds"] = binding_limit(step)
    return step


def _wait_first_claim(keys: list[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while _open_events(keys, states=(WebhookEvent.State.PENDING,)) == len(keys):
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)


def binding_limit(step: dict) -> str:
    """Monday's budget binds when the burst needed more than one minute's budget and the
    busiest minute used most of it; Exact's when one division neared 60 calls in a minute."""
    if step["monday_budget_used"] >= NEAR and step["monday_points"] > step["monday_budget"]:
        return "Monday.com's complexity budget per token (10,000,000 points a minute)"
    if step["exact_busiest_division_calls"] >= NEAR * EXACT_MINUTELY:
        return "Exact Online's 60 calls a minute of the busiest division"
    return "the workers (each job waits on API latency and the database)"


class Sampler:
    """The sandboxes' request logs read every quarter second while the queue drains."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.samples: list[tuple[float, int, dict[str, int]]] = []

    def sample(self) -> None:
        points = sum(r["complexity"] for r in list(self.world.monday.requests))
        per_division: dict[str, int] = {}
        for _, path, _ in list(self.world.exact.calls):
            division = path.split("/")[3]
            per_division[division] = per_division.get(division, 0) + 1
        self.samples.append((time.monotonic(), points, per_division))

    def busiest_minute(self) -> dict:
        """The most Monday points and the most calls to one Exact division in any 60 s."""
        most_points = most_calls = 0
        for i, (start, points, calls) in enumerate(self.samples):
            end = next((s for s in self.samples[i:] if s[0] - start >= 60), self.samples[-1])
            most_points = max(most_points, end[1] - points)
            most_calls = max(
                most_calls, max((n - calls.get(d, 0) for d, n in end[2].items()), default=0)
            )
        budget = self.world.monday.budget_per_minute
        return {
            "monday_points": self.samples[-1][1] if self.samples else 0,
            "monday_budget": budget,
            "monday_busiest_minute_points": most_points,
            "monday_budget_used": round(most_points / budget, 3),
            "exact_busiest_division_calls": most_calls,
        }


def run_from_options(opts: dict, *, progress) -> tuple[dict, str]:
    """`benchmark --workers 1,2,4`: this phase alone; returns (results, printed table)."""
    from integrations.benchmark import report
    from integrations.benchmark.run import command_line

    workers = sorted({int(w) for w in str(opts["workers"]).split(",") if w.strip()})
    progress(
        f"scale: {DIVISIONS} divisions x {opts['per_division']} invoices, drained by "
        f"{', '.join(map(str, workers))} qcluster workers ({opts['latency_ms']:g} ms a call)"
    )
    results = {
        "command": command_line(),
        "scale": run_scale(
            workers, latency=opts["latency_ms"] / 1000, per_division=opts["per_division"]
        ),
    }
    report.write_json(results, Path(opts["json"]))
    return results, scale_table(results["scale"])


def scale_table(scale: dict) -> str:
    head = (
        "| qcluster workers | events | drain s | events/s | Exact calls (refused) | "
        "busiest division calls/min | Monday requests (refused) | Monday budget, busiest "
        "minute | what binds |"
    )
    rows = [head, "|" + " --- |" * 9]
    for s in scale["steps"]:
        rows.append(
            f"| {s['workers']} | {s['events']:,} | {s['drain_s']} | {s['events_per_s']} | "
            f"{s['exact_calls']:,} ({s['exact_refused']}) | {s['exact_busiest_division_calls']} | "
            f"{s['monday_requests']:,} ({s['monday_refused']}) | "
            f"{s['monday_budget_used']:.0%} | {s['binds']} |"
        )
    return "\n".join(rows)
