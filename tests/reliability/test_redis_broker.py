"""Real `manage.py qcluster` processes on django-q2's Redis broker (Q_BROKER=redis).

Marked `redis`: they run wherever the suite runs (CI starts Redis for both passes) and fail
with a clear message when Redis is down. The workers are configured only through the
environment, exactly as an operator configures them.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django_q.models import OrmQ
from django_q.tasks import async_task

from integrations.models import SyncedRecord, WebhookEvent
from tests.reliability.conftest import item_keys
from tests.reliability.test_worker_killed import Cluster, wait_for

REPO = Path(__file__).resolve().parents[2]
State = WebhookEvent.State


def _worker_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO")},
        "DJANGO_SETTINGS_MODULE": "mlconnector.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": settings.SECRET_KEY,  # signs the queued task: both sides must agree
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,
        "DEBUG": "true",
        "INTEGRATIONS_MODE": "sandbox",
        "Q_BROKER": "redis",
        "REDIS_URL": redis_url,
        "Q_WORKERS": "1",
        "LOG_LEVEL": "INFO",
    }


def _task_row(db: Path, task_id: str):
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT func, success FROM django_q_task WHERE id = ?", (task_id,)
        ).fetchone()


def _stop(worker: subprocess.Popen) -> None:
    """SIGTERM to the cluster's parent only (it stops its workers in order), SIGKILL to the
    whole process group if it has not stopped in time."""
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


@pytest.mark.redis
def test_a_job_queued_on_redis_is_done_by_a_qcluster(redis_broker, redis_url, tmp_path):
    """Any database: the worker keeps its results in a SQLite file of its own, so this runs on
    the SQLite pass too. Only Redis joins this process and the worker."""
    db = tmp_path / "worker.sqlite3"
    env = _worker_env(f"sqlite:///{db}", redis_url)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr

    task_id = async_task("integrations.tasks.heartbeat")
    assert redis_broker.queue_size() == 1  # the job waits in Redis, not in a database table

    log = tmp_path / "qcluster.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while _task_row(db, task_id) is None and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            _stop(worker)
    row = _task_row(db, task_id)
    assert row is not None, f"the qcluster never ran the job\n{log.read_text()[-3000:]}"
    assert row == ("integrations.tasks.heartbeat", 1)
    assert redis_broker.queue_size() == 0


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_webhook_goes_through_redis_to_the_board(live, redis_broker, redis_url, tmp_path):
    """The whole path on PostgreSQL: webhook → inbox → job on Redis → qcluster → Monday item."""
    invoices = [live.invoice(amounts=(100 + n,)) for n in range(3)]
    assert WebhookEvent.objects.filter(state=State.PENDING).count() == 3
    # One job for the three (sync/job_queue.py), in Redis, none in the database.
    assert redis_broker.queue_size() == 1 and not OrmQ.objects.exists()

    cluster = Cluster(live.url, tmp_path / "qcluster.log", Q_BROKER="redis", REDIS_URL=redis_url)
    try:
        wait_for(
            lambda: WebhookEvent.objects.filter(state=State.DONE).count() == 3,
            60,
            "every event to end done",
            cluster,
        )
    finally:
        cluster.kill(signal.SIGTERM)
    assert sorted(item_keys(live)) == sorted(i["InvoiceID"].lower() for i in invoices)
    assert SyncedRecord.objects.filter(state=SyncedRecord.State.SYNCED).count() == 3
    assert redis_broker.queue_size() == 0
