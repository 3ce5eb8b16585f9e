"""The phases that measure the live limits over time: eight workers on one Monday token (real
minutes, PostgreSQL) and the two days (simulated clock). run.py calls run_limit_phases."""

from __future__ import annotations

from collections.abc import Callable

from integrations.benchmark.day import run_day


def run_limit_phases(opts: dict, *, latency: float, progress: Callable[[str], None]) -> dict:
    results: dict = {}
    if opts.get("workers") and not opts.get("skip_webhooks"):
        from integrations.benchmark.workers import run_workers  # PostgreSQL and processes

        progress(
            f"workers: {opts['workers']} qcluster workers x {opts['workers_invoices']} invoices "
            "on one Monday token (real minutes)"
        )
        results["workers"] = run_workers(
            routes=opts["workers"], invoices=opts["workers_invoices"], latency=latency
        )
    hours = opts["day_hours"]
    for key, n in (("normal_day", opts["day_n"]), ("busy_day", opts["busy_day_n"])):
        if n:
            progress(f"{key.replace('_', ' ')}: {n:,} documents over {hours:g} simulated hours")
            results[key] = run_day(n, hours=hours)
    return results
