"""python manage.py run_stack: the web server, a qcluster and (in sandbox mode) the sandboxes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class _Stop(Exception):
    """Raised by the signal handler: Ctrl-C in a terminal, or SIGTERM (kill, a supervisor)."""


def _stop(signum, frame):
    raise _Stop


def _worker_priority() -> None:
    os.nice(settings.QCLUSTER_NICENESS)


class Command(BaseCommand):
    help = "Run the development stack: runserver + qcluster (+ run_sandbox in sandbox mode)."

    def add_arguments(self, parser):
        parser.add_argument("--addrport", default="127.0.0.1:8000")

    def handle(self, *args, addrport: str, **options):
        python = sys.executable
        commands = [
            [python, "manage.py", "qcluster"],
            [python, "manage.py", "runserver", "--noreload", addrport],
        ]
        env = dict(os.environ)
        if settings.INTEGRATIONS_MODE == "sandbox":
            # Explicit for every process of the stack: only an explicit sandbox mode accepts
            # webhooks signed with the sandbox's public secret (a guessed "auto" never does).
            env["INTEGRATIONS_MODE"] = "sandbox"
            commands.insert(0, [python, "manage.py", "run_sandbox"])
            self.stdout.write(
                f"Sandbox mode (INTEGRATIONS_MODE=sandbox): Exact and Monday sandboxes at "
                f"{settings.SANDBOX_URL}"
            )
        # Explicit handlers: a shell that starts us in the background (`make run &`) leaves
        # SIGINT ignored, and then Ctrl-C/kill -INT would stop nothing.
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        processes = []
        try:
            for cmd in commands:
                lower = _worker_priority if cmd[2] == "qcluster" else None
                processes.append(subprocess.Popen(cmd, env=env, preexec_fn=lower))  # noqa: S603
            self.stdout.write(f"Admin at http://{addrport}/admin/  (Ctrl-C stops everything)")
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
        except _Stop:
            pass
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            for p in processes:
                if p.poll() is None:
                    p.terminate()  # SIGTERM: qcluster stops its workers, the servers exit
            for p in processes:
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        failed = [p.args for p in processes if p.returncode not in (0, -signal.SIGTERM, 130)]
        if failed:
            self.stderr.write(f"Stopped because a process exited: {failed}")
