"""python manage.py benchmark: the sync's cost, speed and limits, measured against the sandboxes.

By default it (re)creates a PostgreSQL database for the run (`--pg-url`, named *bench*),
migrates it and runs there in a child process, so the configured database is never touched.
`--here` runs in the current database instead (backfills are rolled back; the webhook phases
need PostgreSQL and commit, so they refuse a database whose name lacks "bench").
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/mlc_bench"
# option -> (type, default, default with --quick)
OPTIONS = {
    "n": (int, 10_000, 300),  # documents of each entity polled
    "latency_ms": (float, 50.0, 50.0),
    "naive_n": (int, 300, 60),
    "budget_n": (int, 2_000, 700),
    "changed_n": (int, 1_000, 300),  # sales orders changed after their backfill
    "subitems_n": (int, 1_000, 200),  # invoices of 3 lines as subitems
    "burst_n": (int, 1_000, 300),  # webhook events in one burst
    "month_end_n": (int, 1_000, 100),  # invoices a division in the month-end minute
    "rollover_n": (int, 25_000, 100),  # invoices into boards that hold board_limit items
    "board_limit": (int, 10_000, 40),
    "rate": (float, 200.0, 200.0),
    "seconds": (float, 30.0, 10.0),
    "item_rate": (float, 5.0, 5.0),
    "item_seconds": (float, 20.0, 10.0),
    "gunicorn_workers": (int, 0, 0),  # 0: cores + 1 (processes.gunicorn_workers)
    "q_workers": (int, 8, 8),
    "q_poll": (float, 0.5, 0.5),
    "per_division": (int, 20, 10),  # --workers: invoices per division in each step
    # Workers on one Monday token (the budget_workers phase), and the two simulated days.
    "budget_workers": (int, 8, 3),
    "workers_invoices": (int, 150, 150),
    "day_n": (int, 1_000, 100),
    "busy_day_n": (int, 10_000, 0),
    "day_hours": (float, 8.0, 8.0),
}


class Command(BaseCommand):
    help = "Measure backfill cost, the naive baseline, Monday's budget and webhook load."

    def add_arguments(self, parser):
        parser.add_argument(
            "--quick", action="store_true", help="CI size: a few hundred documents, 10 s load"
        )
        for name, (kind, default, quick) in OPTIONS.items():
            parser.add_argument(
                f"--{name.replace('_', '-')}",
                type=kind,
                default=None,
                help=f"default {default} ({quick} with --quick)",
            )
        parser.add_argument("--scaling", default="", help="e.g. 1000,10000,50000")
        parser.add_argument("--skip-webhooks", action="store_true")
        parser.add_argument(
            "--workers", default="", help="e.g. 1,2,4: only the drain rate per qcluster workers"
        )
        parser.add_argument("--only", default="", help="phases to run, e.g. burst,month_end")
        parser.add_argument("--json", default=str(Path(settings.BASE_DIR) / "var/benchmark.json"))
        parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
        parser.add_argument("--here", action="store_true", help="run in the current database")

    def handle(self, *args, **opts):
        for name, (_, default, quick) in OPTIONS.items():
            if opts[name] is None:
                opts[name] = quick if opts["quick"] else default
        opts["json"] = str(Path(opts["json"]).resolve())
        if opts["here"]:
            from integrations.benchmark.run import run_all

            try:
                results, text = run_all(opts, progress=self._progress)
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(text)
            self.stdout.write(f"\nJSON written to {opts['json']}")
            return
        self._run_in_bench_database(opts)

    def _progress(self, message: str) -> None:
        stamp = datetime.now(UTC).strftime("%H:%M:%S")
        self.stderr.write(f"[{stamp}] {message}")

    def _run_in_bench_database(self, opts) -> None:
        from integrations.benchmark import processes

        url = opts["pg_url"]
        self._progress(f"recreating database {processes.database_name(url)}")
        try:
            processes.recreate_database(url)
        except (ValueError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        env = processes.child_env(
            DATABASE_URL=url, BENCHMARK_COMMAND=shlex.join(["manage.py", *sys.argv[1:]])
        )
        manage = processes.MANAGE
        subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, manage, "migrate", "--noinput", "-v", "0"], env=env, check=True
        )
        argv = [sys.executable, manage, "benchmark", "--here", "--json", opts["json"]]
        for name in OPTIONS:
            argv += [f"--{name.replace('_', '-')}", str(opts[name])]
        if opts["scaling"]:
            argv += ["--scaling", opts["scaling"]]
        if opts["only"]:
            argv += ["--only", opts["only"]]
        if opts["skip_webhooks"]:
            argv.append("--skip-webhooks")
        if opts["workers"]:
            argv += ["--workers", opts["workers"]]
        code = subprocess.run(argv, env=env).returncode  # noqa: S603
        if code:
            raise CommandError(f"The benchmark run failed (exit {code}).")
