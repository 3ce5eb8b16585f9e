"""Eight qcluster workers on one Monday token: how much of the shared per-minute budget they use
together, and whether Monday refuses any of their requests (COMPLEXITY_BUDGET_EXHAUSTED).

`routes` routes on one Monday connection, each with its own board, all reading the same Exact
division; one poll job per route is queued and a real qcluster with as many workers runs them
at once, in their own processes, against the sandboxes served here over HTTP. Every limit of
both sandboxes is on, at Monday's real 10,000,000 points a minute: the phase takes real minutes
(the windows are real). A window's share is what Monday charged in it over its budget; the first
window (opened by the setup) and the last (ended by the work, not the minute) are not full.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from unittest import mock

from django_q.tasks import async_task

from integrations.benchmark import measure, processes
from integrations.benchmark.latency import check_database
from integrations.benchmark.world import (
    COLUMNS,
    COST_CENTERS,
    GL_CODE,
    GL_VALUE,
    add_invoices,
    build_world,
)
from integrations.models import ExactDivision, Route, SyncedRecord
from integrations.monday import connections as monday_connections
from integrations.sandbox.monday_complexity import Window
from mappings.services import set_mappings

# A poll of its route by one worker paced by the shared budget takes minutes: the job timeout
# is raised for this phase's qcluster so no job is killed midway.
JOB_TIMEOUT = 1800


def run_workers(*, routes: int, invoices: int, latency: float, timeout: float = 1800.0) -> dict:
    """`routes` poll jobs of `invoices` invoices each, run by a qcluster of `routes` workers."""
    check_database()
    logs = Path(tempfile.mkdtemp(prefix="mlc-bench-workers-"))
    world = build_world()  # every limit on
    cluster = None
    others = list(Route.objects.filter(enabled=True).exclude(pk=world.route.pk))
    Route.objects.filter(pk__in=[r.pk for r in others]).update(enabled=False)
    try:
        ours = [world.route, *(_another_route(world, n) for n in range(1, routes))]
        add_invoices(world, invoices, seed=7)
        world.set_latency(latency)
        charges = measure.BudgetCharges(world.monday.budget_per_minute)
        before = len(world.monday.requests)
        with mock.patch.object(Window, "charge", charges.charge):
            env = processes.child_env(Q_TIMEOUT=str(JOB_TIMEOUT))
            cluster = processes.start_qcluster(
                workers=routes, poll=0.2, env=env, log=logs / "qcluster.log"
            )
            started = time.monotonic()
            for route in ours:
                async_task("integrations.tasks.poll_route", route.pk, group="benchmark")
            wanted = routes * invoices
            while time.monotonic() - started < timeout:
                written = SyncedRecord.objects.filter(route__in=ours).exclude(monday_item_id="")
                if written.count() >= wanted:
                    break
                time.sleep(1)
            wall = time.monotonic() - started
        requests = world.monday.requests[before:]
        on_boards = sum(len(world.monday.items(r.board_id)) for r in ours)
    finally:
        processes.stop(cluster)
        world.close()
        Route.objects.filter(pk__in=[r.pk for r in others]).update(enabled=True)
    figures = measure.monday_figures(requests)
    windows = charges.shares()
    full = windows[1:-1]
    return {
        "workers": routes,
        "routes": routes,
        "invoices_per_route": invoices,
        "items_wanted": wanted,
        "items_on_boards": on_boards,
        "wall_s": round(wall, 1),
        "windows": len(windows),
        "window_shares": [round(w, 4) for w in windows],
        "full_window_shares": [round(w, 4) for w in full],
        "budget_share_full_windows": round(sum(full) / len(full), 4) if full else None,
        "budget_exhausted_errors": figures["budget_exhausted_errors"],
        "monday_error_codes": figures["error_codes"],
        "monday_requests": figures["requests"],
        "max_request_complexity": figures["max_request_complexity"],
        "logs": str(logs),
    }


def _another_route(world, n: int) -> Route:
    """A route like the world's own, on a board of its own on the same Monday token."""
    board_id = world.monday.finance_board(f"{world.route.name} worker {n}")
    monday_connections.refresh_monday_boards(world.monday_conn)
    route = Route.objects.create(
        name=f"{world.route.name} worker {n}",
        entity="sales_invoice",
        exact_connection=world.exact_conn,
        monday_connection=world.monday_conn,
        board_id=board_id,
        group_id="topics",
        columns=dict(COLUMNS),
    )
    division = ExactDivision.objects.get(connection=world.exact_conn, code=world.division)
    route.divisions.set([division])
    set_mappings(route, division, "gl_account", [GL_CODE], GL_VALUE)
    for code in COST_CENTERS:
        set_mappings(route, division, "cost_center", [code], code)
    return route
