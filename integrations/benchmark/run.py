"""Runs the benchmark phases in order and assembles the results, the verdicts and the table.

A phase is one line in PHASES: its key in the results, what the progress line says, how it runs
(options and the results so far -> its result) and its table rows (its result -> rows built
with verdicts.row). `--only a,b` runs just those phases.
"""

from __future__ import annotations

import os
import platform
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.db import connection

from integrations.benchmark import (
    backfill,
    budget,
    bursts,
    naive,
    phase_report,
    report,
    rollover,
)
from integrations.benchmark.day import run_day
from integrations.benchmark.scale import run_from_options as run_scale_phase


@dataclass(frozen=True)
class Phase:
    key: str  # where its result goes in the results (and the JSON)
    describe: str  # the progress line, formatted with the options
    run: Callable[[dict, dict], dict]  # (options, results so far) -> its result
    rows: Callable[[dict], list[dict]]  # its result -> table rows (verdicts.row)
    webhooks: bool = False  # needs PostgreSQL and processes; left out by --skip-webhooks


def _latency(opts: dict) -> float:
    return opts["latency_ms"] / 1000


def _polling(o: dict, results: dict) -> dict:
    return backfill.run_polling(o["n"], latency=_latency(o))


def _changed_orders(o: dict, results: dict) -> dict:
    return backfill.run_changed_orders(o["changed_n"], latency=_latency(o))


def _subitems(o: dict, results: dict) -> dict:
    return backfill.run_subitems(o["subitems_n"], latency=_latency(o))


def _naive(o: dict, results: dict) -> dict:
    result = naive.run_naive(min(o["n"], o["naive_n"]), latency=_latency(o))
    invoices = (results.get("polling") or {}).get("sales_invoice")
    if invoices:
        result["comparison"] = report.compare(invoices, result)
    return result


def _budget(o: dict, results: dict) -> dict:
    return budget.run_budget(o["budget_n"], latency=_latency(o))


def _burst(o: dict, results: dict) -> dict:
    return bursts.run_burst(o["burst_n"], latency=_latency(o))


def _month_end(o: dict, results: dict) -> dict:
    return bursts.run_month_end(o["month_end_n"], latency=_latency(o))


def _rollover(o: dict, results: dict) -> dict:
    return rollover.run_rollover(o["rollover_n"], limit=o["board_limit"], latency=_latency(o))


def _webhooks(o: dict, results: dict) -> dict:
    from integrations.benchmark.latency import run_webhook_phases

    names = ("rate", "seconds", "gunicorn_workers", "q_workers", "q_poll", "item_rate")
    return run_webhook_phases(
        latency=_latency(o), item_seconds=o["item_seconds"], **{k: o[k] for k in names}
    )


def _budget_workers(o: dict, results: dict) -> dict:
    from integrations.benchmark.workers import run_workers  # PostgreSQL and processes

    if not o["budget_workers"]:
        return {}
    return run_workers(
        routes=o["budget_workers"], invoices=o["workers_invoices"], latency=_latency(o)
    )


def _normal_day(o: dict, results: dict) -> dict:
    return run_day(o["day_n"], hours=o["day_hours"]) if o["day_n"] else {}


def _busy_day(o: dict, results: dict) -> dict:
    return run_day(o["busy_day_n"], hours=o["day_hours"], seed=4) if o["busy_day_n"] else {}


def _limit_rows(key: str) -> Callable[[dict], list[dict]]:
    """phase_report's rows of one phase (it reads the phases by their keys)."""
    return lambda result: phase_report.targets({key: result})


# fmt: off
PHASES = [
    Phase("polling", "polling {n:,} documents of each entity", _polling, report.polling_rows),
    Phase("changed_orders", "{changed_n:,} sales orders changed", _changed_orders, report.changed_orders_rows),  # noqa: E501
    Phase("subitems", "{subitems_n:,} invoices, lines as subitems", _subitems, report.subitems_rows),
    Phase("naive", "naive sample of {naive_n:,}", _naive, report.naive_rows),
    Phase("budget", "Monday budget, 1 process, {budget_n:,} invoices", _budget, report.budget_rows),
    Phase("burst", "burst of {burst_n:,} webhook events", _burst, report.burst_rows),
    Phase("month_end", "month-end: {month_end_n:,} invoices x 3 divisions", _month_end, report.month_end_rows),  # noqa: E501
    Phase("rollover", "{rollover_n:,} invoices, boards of {board_limit:,}", _rollover, report.rollover_rows),  # noqa: E501
    Phase("normal_day", "a normal day: {day_n:,} documents over {day_hours:g} simulated hours", _normal_day, _limit_rows("normal_day")),  # noqa: E501
    Phase("busy_day", "a busy day: {busy_day_n:,} documents over {day_hours:g} simulated hours", _busy_day, _limit_rows("busy_day")),  # noqa: E501
    Phase("budget_workers", "{budget_workers} qcluster workers x {workers_invoices} invoices on one Monday token (real minutes)", _budget_workers, _limit_rows("workers"), webhooks=True),  # noqa: E501
    Phase("webhooks", "lone events, then webhooks {rate:g}/s for {seconds:g} s with the qcluster draining", _webhooks, phase_report.targets, webhooks=True),  # noqa: E501
    # --workers 1,2,4 (scale.py) runs alone: see run_all.
]
# fmt: on


def selected(opts: dict) -> list[Phase]:
    only = {s.strip() for s in (opts.get("only") or "").split(",") if s.strip()}
    unknown = only - {p.key for p in PHASES}
    if unknown:
        raise RuntimeError(
            f"No benchmark phase named {', '.join(sorted(unknown))}; "
            f"the phases are {', '.join(p.key for p in PHASES)}."
        )
    return [
        p
        for p in PHASES
        if (not only or p.key in only) and not (p.webhooks and opts.get("skip_webhooks"))
    ]


def run_all(opts: dict, *, progress: Callable[[str], None]) -> tuple[dict, str]:
    """Every phase the options ask for; returns (results, printed table). Writes the JSON."""
    if opts.get("workers"):  # benchmark --workers 1,2,4: the scale phase alone
        return run_scale_phase(opts, progress=progress)
    results: dict = {
        "command": command_line(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.vendor,
        "python": platform.python_version(),
        "cpus": _cpus(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "latency_ms": opts["latency_ms"],
    }
    rows: list[dict] = []
    for phase in selected(opts):
        progress(phase.describe.format(**opts))
        results[phase.key] = phase.run(opts, results)
        rows += phase.rows(results[phase.key])
        results["targets"] = rows
        report.write_json(results, Path(opts["json"]))  # a run cut short keeps what it measured
    if opts.get("scaling"):
        sizes = sorted({int(s) for s in opts["scaling"].split(",") if s.strip()})
        results["scaling"] = []
        for size in sizes:
            progress(f"scaling: backfill of {size:,} invoices")
            results["scaling"].append(backfill.run_backfill(size, latency=_latency(opts)))
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    results["targets"] = rows
    report.write_json(results, Path(opts["json"]))
    return results, report.table(results)


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def command_line() -> str:
    """The command that produced the figures, as a reader would type it."""
    return os.environ.get("BENCHMARK_COMMAND") or shlex.join(["manage.py", *sys.argv[1:]])
