"""README's "Running in production", run as written: DEBUG off, PostgreSQL, Redis, gunicorn
behind a proxy that says HTTPS, two qclusters; one invoice from Exact's webhook to the board.

The only departure from a live deploy is the explicit `INTEGRATIONS_MODE=sandbox` (the settings
require it to be explicit) with the sandboxes served over HTTP by this test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings

from integrations.benchmark.processes import current_database_url, free_port
from integrations.models import SyncedRecord, WebhookEvent
from tests.reliability.conftest import item_keys
from tests.reliability.test_worker_killed import wait_for
from tests.stack import WEBHOOK_SECRET

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
REPO = Path(__file__).resolve().parents[2]
HOST = "connector.example.com"


def production_env(sandbox_url: str, redis_url: str) -> dict[str, str]:
    """The README's exports, nothing from the test settings."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return {
        **keep,
        "DEBUG": "false",
        "SECRET_KEY": "production-recipe-" + "k" * 50,
        "FIELD_ENCRYPTION_KEY": settings.FIELD_ENCRYPTION_KEY,  # decrypts the stored tokens
        "DATABASE_URL": current_database_url(),
        "ALLOWED_HOSTS": HOST,
        "PUBLIC_BASE_URL": f"https://{HOST}",
        "EXACT_CLIENT_ID": settings.EXACT_CLIENT_ID,
        "EXACT_CLIENT_SECRET": settings.EXACT_CLIENT_SECRET,
        "EXACT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "TRUSTED_PROXY_COUNT": "1",
        "LOG_FORMAT": "json",
        "Q_BROKER": "redis",
        "REDIS_URL": redis_url,
        "INTEGRATIONS_MODE": "sandbox",
        "SANDBOX_URL": sandbox_url,
    }


def manage(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def start(env, args, log: Path, *, nice: int | None = None) -> subprocess.Popen:
    command = [sys.executable, *args]
    if nice is not None:  # as the README writes it: `nice -n 10 python manage.py qcluster`
        command = ["nice", "-n", str(nice), *command]
    return subprocess.Popen(  # noqa: S603 - our interpreter, our arguments
        command,
        cwd=REPO,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped with its children
    )


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the parent only (gunicorn's arbiter and the cluster stop their children in
    order); SIGKILL to the whole process group if it has not stopped in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_the_production_recipe_takes_an_invoice_from_webhook_to_board(
    live, redis_broker, redis_url, tmp_path
):
    env = production_env(live.url, redis_url)
    for step in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        done = manage(env, *step)
        assert done.returncode == 0, done.stderr[-2000:]
    check = manage(env, "check", "--deploy")
    assert check.returncode == 0, check.stderr[-2000:]
    assert "System check identified no issues (0 silenced)." in check.stdout
    assert "WARNINGS" not in check.stdout + check.stderr
    schedules = manage(env, "setup_schedules")
    assert schedules.returncode == 0, schedules.stderr[-2000:]

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    processes = [
        start(
            env,
            [
                *["-m", "gunicorn", "mlconnector.wsgi", "--workers", "3", "--preload"],
                *["--bind", f"127.0.0.1:{port}"],
            ],
            tmp_path / "gunicorn.log",
        ),
        start(env, ["manage.py", "qcluster"], tmp_path / "qcluster1.log", nice=10),
        start(env, ["manage.py", "qcluster"], tmp_path / "qcluster2.log", nice=10),
    ]
    proxy = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}

    def via_proxy(url: str, body: bytes) -> int:
        """Exact's delivery, through the HTTPS proxy in front of gunicorn."""
        return requests.post(
            base + urlsplit(url).path,
            data=body,
            headers={**proxy, "Content-Type": "application/json"},
            timeout=10,
        ).status_code

    try:
        wait_for(lambda: _answers(base + "/healthz", proxy), 30, "gunicorn to answer")
        # Plain HTTP is sent to HTTPS; what the proxy marks as HTTPS is served.
        plain = requests.get(
            base + "/admin/login/", headers={"Host": HOST}, timeout=5, allow_redirects=False
        )
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
        login = requests.get(base + "/admin/login/", headers=proxy, timeout=5)
        assert login.status_code == 200
        assert "Secure" in login.headers["Set-Cookie"]  # the CSRF cookie only goes over HTTPS
        assert "max-age=31536000" in login.headers["Strict-Transport-Security"]

        live.exact.webhook_transport = via_proxy
        invoice = live.invoice(amounts=(4321.5,))
        assert [d["status"] for d in live.exact.webhook_deliveries] == [200]
        event = WebhookEvent.objects.get()
        wait_for(
            lambda: WebhookEvent.objects.filter(pk=event.pk, state="done").exists(),
            60,
            "the webhook event to end done",
        )
        health = requests.get(base + "/healthz", headers=proxy, timeout=5).json()
        assert health["queue"]["broker"] == "redis"
    finally:
        for process in processes:
            stop(process)
    assert item_keys(live) == [invoice["InvoiceID"].lower()]
    record = SyncedRecord.objects.get()
    assert record.first_seen_via == SyncedRecord.Via.WEBHOOK and record.monday_item_id


def _answers(url: str, headers: dict) -> bool:
    try:
        return requests.get(url, headers=headers, timeout=2).status_code in (200, 503)
    except requests.RequestException:
        return False
