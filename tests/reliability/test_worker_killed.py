"""A real `manage.py qcluster` killed with SIGKILL mid-job: nothing is lost, nothing doubled.

The cluster runs as a subprocess on the test's PostgreSQL database against the served
sandboxes. Monday.com answers slowly, so the kill lands while a mutation is in flight: Monday
applies it, but the dead worker never saves the synced record.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import F

from integrations.models import InboxJob, SyncedRecord, WebhookEvent
from integrations.sync import job_queue
from tests.reliability.conftest import item_keys
from tests.reliability.counters import COUNTS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
REPO = Path(__file__).resolve().parents[2]
State = WebhookEvent.State


class Cluster:
    """`manage.py qcluster` in its own process group, configured only through the environment."""

    def __init__(self, sandbox_url: str, log_path: Path, **extra_env: str):
        db = connection.settings_dict
        # Open for the subprocess's lifetime; read back when a wait times out.
        self.log = log_path.open("wb")  # noqa: SIM115
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "mlconnector.settings",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "FIELD_ENCRYPTION_KEY": os.environ["FIELD_ENCRYPTION_KEY"],  # decrypts the tokens
            "SECRET_KEY": os.environ["SECRET_KEY"],
            "DEBUG": "true",
            "INTEGRATIONS_MODE": "sandbox",
            "SANDBOX_URL": sandbox_url,
            "EXACT_CLIENT_ID": settings.EXACT_CLIENT_ID,
            "EXACT_CLIENT_SECRET": settings.EXACT_CLIENT_SECRET,
            "Q_WORKERS": "2",
            "Q_POLL": "0.1",
            "LOG_LEVEL": "INFO",
            **extra_env,
        }
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers die with it
        )

    def kill(self, sig=signal.SIGKILL) -> None:
        """Signal the whole process group; a cluster slow to stop on SIGTERM gets SIGKILL."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log.close()

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-3000:]


def wait_for(condition, timeout: float, what: str, cluster: Cluster | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    log = cluster.output() if cluster else ""
    raise AssertionError(f"timed out waiting for {what}\n{log}")


@pytest.fixture
def mutations_in_flight(live):
    """Monday mutations that have started executing and not yet answered, by start time."""
    in_flight: dict[int, float] = {}
    real = live.monday._execute
    lock = threading.Lock()

    def execute(token, user, limits, document, variables, operation_name, cost, request_id):
        if not cost.mutations:
            return real(token, user, limits, document, variables, operation_name, cost, request_id)
        ident = threading.get_ident()
        with lock:
            in_flight[ident] = time.monotonic()
        try:
            return real(token, user, limits, document, variables, operation_name, cost, request_id)
        finally:
            with lock:
                in_flight.pop(ident, None)

    live.monday._execute = execute
    return in_flight


def test_a_cluster_killed_mid_job_loses_nothing_and_duplicates_nothing(
    live, mutations_in_flight, monkeypatch, tmp_path
):
    live.monday.latency = 1.0  # each Monday call takes a second: jobs are caught in flight
    invoices = [live.invoice(amounts=(100 + n,)) for n in range(4)]
    assert WebhookEvent.objects.filter(state=State.PENDING).count() == 4
    first = Cluster(live.url, tmp_path / "first.log")
    try:
        wait_for(
            lambda: (
                WebhookEvent.objects.filter(state=State.PROCESSING).exists()
                and any(time.monotonic() - t > 0.3 for t in list(mutations_in_flight.values()))
            ),
            60,
            "a job with a Monday mutation in flight",
            first,
        )
    finally:
        first.kill()
    COUNTS["faults injected: qcluster SIGKILL mid-job"] += 1
    stranded = WebhookEvent.objects.filter(state=State.PROCESSING)
    assert stranded.exists(), "the kill should leave a claimed job behind"
    # Monday finishes the mutation the dead worker sent: the item exists, our record does not.
    wait_for(lambda: not mutations_in_flight, 10, "Monday to finish the orphaned mutation")
    orphaned = set(item_keys(live)) - set(
        SyncedRecord.objects.exclude(monday_item_id="").values_list("exact_key", flat=True)
    )
    assert orphaned, "the killed job's item should be on the board without a synced record"

    # Later: the dead worker's claim is stale, and unclaimed events are over a minute old.
    monkeypatch.setattr(job_queue, "STALE_CLAIM", timedelta(seconds=0))
    # ... and the dead job's turn of its division is older than the job timeout.
    InboxJob.objects.filter(running_since__isnull=False).update(
        running_since=F("running_since") - job_queue.running_stale()
    )
    WebhookEvent.objects.filter(state=State.PENDING, attempts=0).update(
        received_at=F("received_at") - timedelta(minutes=2)
    )
    left = WebhookEvent.objects.exclude(state=State.DONE)
    assert left.exists()
    # One job per division and topic left behind: it takes every due event of the group along.
    assert job_queue.enqueue_due_events() == len(set(left.values_list("division", "topic"))) == 1
    live.monday.latency = 0.05
    second = Cluster(live.url, tmp_path / "second.log")
    try:
        wait_for(
            lambda: WebhookEvent.objects.filter(state=State.DONE).count() == 4,
            60,
            "every event to end done",
            second,
        )
    finally:
        second.kill(signal.SIGTERM)
    assert sorted(item_keys(live)) == sorted(i["InvoiceID"].lower() for i in invoices)
    assert SyncedRecord.objects.filter(state=SyncedRecord.State.SYNCED).count() == 4
    assert any(r.write_attempts > 1 for r in SyncedRecord.objects.all())
