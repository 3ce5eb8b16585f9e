"""Runs the benchmark phases in order and assembles the results, the verdicts and the table."""

from __future__ import annotations

import os
import platform
import shlex
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from django.db import connection

from integrations.benchmark import report
from integrations.benchmark.backfill import run_backfill
from integrations.benchmark.budget import run_budget
from integrations.benchmark.limit_phases import run_limit_phases
from integrations.benchmark.naive import run_naive


def run_all(opts: dict, *, progress: Callable[[str], None]) -> tuple[dict, str]:
    """Every phase the options ask for; returns (results, printed table). Writes the JSON."""
    latency = opts["latency_ms"] / 1000
    n = opts["n"]
    results: dict = {
        "command": command_line(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.vendor,
        "python": platform.python_version(),
        "cpus": _cpus(),
        "latency_ms": opts["latency_ms"],
    }
    progress(f"backfill of {n:,} invoices")
    results["backfill"] = run_backfill(n, latency=latency)
    naive_n = min(n, opts["naive_n"])
    progress(f"naive backfill of {naive_n:,} invoices (sample)")
    results["naive"] = run_naive(naive_n, latency=latency)
    results["comparison"] = report.compare(results["backfill"], results["naive"])
    budget_n = min(n, opts["budget_n"])
    progress(f"budget run of {budget_n:,} invoices, clock x{opts['budget_speed']:g}")
    results["budget"] = run_budget(budget_n, latency=latency, speed=opts["budget_speed"])
    if opts.get("scaling"):
        results["scaling"] = []
        for size in sorted({int(s) for s in opts["scaling"].split(",") if s.strip()}):
            if size == n:
                results["scaling"].append(results["backfill"])
                continue
            progress(f"scaling: backfill of {size:,} invoices")
            results["scaling"].append(run_backfill(size, latency=latency))
    if not opts.get("skip_webhooks"):
        from integrations.benchmark.latency import run_webhook_phases

        progress(
            f"webhooks: {opts['rate']:g}/s for {opts['seconds']:g} s through gunicorn, "
            "then the drain and webhook-to-item latency with a qcluster"
        )
        results.update(
            run_webhook_phases(
                latency=latency,
                rate=opts["rate"],
                seconds=opts["seconds"],
                gunicorn_workers=opts["gunicorn_workers"],
                q_workers=opts["q_workers"],
                q_poll=opts["q_poll"],
                item_rate=opts["item_rate"],
                item_seconds=opts["item_seconds"],
            )
        )
    results.update(run_limit_phases(opts, latency=latency, progress=progress))
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["targets"] = report.targets(results)
    report.write_json(results, Path(opts["json"]))
    return results, report.table(results)


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def command_line() -> str:
    """The command that produced the figures, as a reader would type it."""
    return os.environ.get("BENCHMARK_COMMAND") or shlex.join(["manage.py", *sys.argv[1:]])
