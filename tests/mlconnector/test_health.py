import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.django_db
def test_healthz_reports_database_and_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["queue"]["queued"] == 0


@pytest.mark.django_db
def test_healthz_counts_queued_tasks(client):
    from django_q.tasks import async_task

    async_task("math.floor", 1.5)
    assert client.get("/healthz").json()["queue"]["queued"] == 1


def test_healthz_answers_503_when_database_is_unreachable():
    """A real unreachable PostgreSQL (nothing listens on port 9), in a fresh process."""
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    env.update(
        DATABASE_URL="postgres://nobody@127.0.0.1:9/none",
        DJANGO_SETTINGS_MODULE="tests.settings",
        PYTHONPATH=str(root),
    )
    code = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client(HTTP_HOST='localhost').get('/healthz'); print(r.status_code, r.json()['database'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip().splitlines()[-1] == "503 unreachable", result.stderr
