"""python manage.py run_stack: the web server, a qcluster and (in sandbox mode) the sandboxes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


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
        if settings.INTEGRATIONS_MODE == "sandbox":
            commands.insert(0, [python, "manage.py", "run_sandbox"])
            self.stdout.write(f"Sandbox mode: Exact and Monday sandboxes at {settings.SANDBOX_URL}")
        processes = [subprocess.Popen(cmd) for cmd in commands]  # noqa: S603
        self.stdout.write(f"Admin at http://{addrport}/admin/  (Ctrl-C stops everything)")
        try:
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for p in processes:
                if p.poll() is None:
                    p.send_signal(signal.SIGINT)
            for p in processes:
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        failed = [p.args for p in processes if p.returncode not in (0, None, -2, 130)]
        if failed:
            self.stderr.write(f"Stopped because a process exited: {failed}")
