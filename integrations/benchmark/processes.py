"""The processes the webhook phases run: the benchmark database, gunicorn and a qcluster.

Each process is started by us and stopped by its own pid; nothing else is touched.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)
MANAGE = str(BASE_DIR / "manage.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def recreate_database(url: str) -> None:
    """Drop and create the benchmark database (its name must contain "bench")."""
    import psycopg

    name = database_name(url)
    if "bench" not in name or not name.replace("_", "").isalnum():
        raise ValueError(f"Refusing to recreate database {name!r}: its name must contain 'bench'.")
    parts = urlsplit(url)
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def child_env(**extra: str) -> dict[str, str]:
    """The environment of the benchmark's child processes: production settings (DEBUG off),
    the same keys as this process, sandbox mode, quiet logs; database connections as in
    production (settings.py: kept on PostgreSQL)."""
    env = dict(os.environ)
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = current_database_url()  # the database this process uses
    env.update(
        DEBUG="false",
        SECRET_KEY=settings.SECRET_KEY,
        FIELD_ENCRYPTION_KEY=settings.FIELD_ENCRYPTION_KEY,
        INTEGRATIONS_MODE="sandbox",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(BASE_DIR),
    )
    env.update(extra)
    return env


def current_database_url() -> str:
    """postgres:// URL of the default connection (under pytest: the test database)."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "postgres", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


def start(args: list[str], env: dict[str, str], log: Path, *, niceness: int = 0):
    handle = log.open("ab")
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        args,
        env=env,
        cwd=BASE_DIR,
        stdout=handle,
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: os.setpriority(os.PRIO_PROCESS, 0, niceness),
    )


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) a process and its children have used so far, from /proc;
    None where there is no /proc (not Linux)."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for each in [pid, *_children(pid)]:
            with suppress(FileNotFoundError):  # a child may exit meanwhile
                with open(f"/proc/{each}/stat", encoding="ascii") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick
    except (OSError, ValueError):
        return None


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
        return [int(each) for each in handle.read().split()]


def gunicorn_workers() -> int:
    """cores + 1 sync workers: one a core, and one to answer while another waits on
    PostgreSQL. Every idle sync worker waits on the one listening socket and is woken by each
    new connection, so workers past that cost CPU on every webhook. Measured at 200 webhooks a
    second with the qcluster draining, on 2 cores: gunicorn's CPU a webhook 2.6-3.0 ms with 2
    workers, 3.0-3.3 with 3, 3.4 with 4, 3.6-3.8 with 5, 3.9-4.2 with 9; p99 10.7-13.8,
    14.1-16.0, 24.7-28.3, 24.7-26.6 and 56.6-60.9 ms."""
    return len(os.sched_getaffinity(0)) + 1


@contextmanager
def lowered_priority(niceness: int):
    """This process at the qcluster's priority for a while: it serves the sandboxes to the
    workers, standing in for Exact's and Monday's own servers, which take no CPU from ours."""
    before = os.getpriority(os.PRIO_PROCESS, 0)
    os.setpriority(os.PRIO_PROCESS, 0, max(before, niceness))
    try:
        yield
    finally:
        # Raising a priority back needs root; without it the rest of the run stays lowered.
        with suppress(PermissionError):
            os.setpriority(os.PRIO_PROCESS, 0, before)


def start_gunicorn(port: int, *, workers: int, env: dict[str, str], log: Path):
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "mlconnector.wsgi",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--backlog",
        "2048",
        "--preload",  # the app is imported once, before the workers fork
        # Each request's time inside gunicorn, in microseconds: the server's share of a
        # response time, apart from the wait to be accepted.
        "--access-logfile",
        str(log.with_name("access.log")),
        "--access-logformat",
        "%(D)s %(s)s",
    ]
    process = start(args, env, log)
    _wait_ready(f"http://127.0.0.1:{port}/healthz", process)
    _warm_up(f"http://127.0.0.1:{port}/healthz", 4 * workers)
    return process


def _warm_up(url: str, requests_at_once: int) -> None:
    """Requests at once, so that every worker has its database connection and URL map before
    anything is measured: a server that has run for a while has them."""
    with ThreadPoolExecutor(max_workers=requests_at_once) as pool:
        for _ in range(3):
            list(pool.map(lambda _: _get(url), range(requests_at_once)))


def _get(url: str) -> None:
    # A cold worker that times out is still warmed; the load measures the rest.
    with suppress(requests.RequestException):
        requests.get(url, timeout=10, headers={"X-Forwarded-Proto": "https"})


def start_qcluster(*, workers: int, poll: float, env: dict[str, str], log: Path):
    env = {**env, "Q_WORKERS": str(workers), "Q_POLL": str(poll)}
    args = [sys.executable, MANAGE, "qcluster"]
    return start(args, env, log, niceness=settings.QCLUSTER_NICENESS)


def _wait_ready(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The server exited with {process.returncode} before answering.")
        try:
            requests.get(url, timeout=1, headers={"X-Forwarded-Proto": "https"})
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s.")


def stop(process: subprocess.Popen | None, timeout: float = 15.0) -> None:
    """SIGTERM our process, then SIGKILL it if it has not exited in time."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
