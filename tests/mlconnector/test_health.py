import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.utils import timezone

from integrations.models import ConnectionStatus
from tests.factories import ACCESS_TOKEN, MONDAY_TOKEN, REFRESH_TOKEN


@pytest.fixture
def started(monkeypatch):
    """Pretend this web process started some time ago (the worker check's grace period)."""

    def _started(ago: timedelta):
        config = apps.get_app_config("integrations")
        monkeypatch.setattr(config, "started_at", timezone.now() - ago, raising=False)

    return _started


def run_heartbeat():
    """The scheduled heartbeat task, run through django-q2 as a worker runs it (its result is
    saved as a Success, which is what a worker leaves behind)."""
    from django_q.tasks import async_task

    async_task("integrations.tasks.heartbeat", sync=True)


@pytest.fixture
def heartbeat(db):
    run_heartbeat()


@pytest.mark.django_db
def test_healthz_reports_database_and_queue(client, heartbeat):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["worker"]["status"] == "ok" and body["connections"]["status"] == "ok"
    assert body["failed"] == {}
    assert body["queue"]["queued"] == 0


@pytest.mark.django_db
def test_healthz_counts_queued_tasks(client, heartbeat):
    from django_q.tasks import async_task

    async_task("math.floor", 1.5)
    assert client.get("/healthz").json()["queue"]["queued"] == 1


@pytest.mark.django_db
def test_healthz_is_ok_on_a_fresh_start_before_the_first_heartbeat(client, started):
    started(timedelta(seconds=30))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["worker"]["status"] == "starting"


@pytest.mark.django_db
def test_healthz_answers_503_when_no_worker_heartbeat_was_ever_seen(client, started):
    started(timedelta(minutes=10))
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["worker"]["status"] == "missing"
    assert list(body["failed"]) == ["worker"]
    assert "No background worker heartbeat" in body["failed"]["worker"]
    assert "qcluster" in body["failed"]["worker"]


@pytest.mark.django_db
def test_healthz_answers_503_when_the_last_heartbeat_is_too_old(client, started):
    started(timedelta(minutes=30))
    with time_machine.travel(timezone.now() - timedelta(minutes=10)):
        run_heartbeat()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["worker"]["status"] == "missing"
    assert "last seen" in response.json()["failed"]["worker"]


@pytest.mark.django_db
def test_healthz_is_ok_with_a_recent_heartbeat_long_after_start(client, started, heartbeat):
    started(timedelta(hours=5))
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("kind", ["exact_connection", "monday_connection"])
@pytest.mark.django_db
def test_healthz_answers_503_when_a_connection_needs_reauthorization(
    client, heartbeat, request, kind
):
    conn = request.getfixturevalue(kind)
    assert client.get("/healthz").status_code == 200
    conn.status = ConnectionStatus.NEEDS_REAUTH
    conn.save(update_fields=["status"])
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["connections"]["status"] == "needs_reauthorization"
    assert list(body["failed"]) == ["connections"]
    label = "Exact Online" if kind == "exact_connection" else "Monday.com"
    assert f"{label} connection {conn.pk} needs re-authorization" in body["failed"]["connections"]


@pytest.mark.django_db
def test_healthz_shows_no_secrets_or_names(client, route, started, settings):
    started(timedelta(minutes=10))
    route.exact_connection.status = ConnectionStatus.NEEDS_REAUTH
    route.exact_connection.save(update_fields=["status"])
    text = json.dumps(client.get("/healthz").json())
    for secret in (ACCESS_TOKEN, REFRESH_TOKEN, MONDAY_TOKEN, settings.SECRET_KEY):
        assert secret not in text
    assert route.exact_connection.name not in text  # the endpoint is public


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


def test_healthz_says_in_words_that_the_database_failed():
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    env.update(
        DATABASE_URL="postgres://nobody@127.0.0.1:9/none",
        DJANGO_SETTINGS_MODULE="tests.settings",
        PYTHONPATH=str(root),
    )
    code = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client(HTTP_HOST='localhost').get('/healthz'); print(r.json()['failed']['database'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, timeout=60
    )
    assert "database is unreachable" in result.stdout, result.stderr
    assert "nobody" not in result.stdout  # no connection string (user, host) in the answer


@pytest.mark.redis
@pytest.mark.django_db
def test_healthz_counts_the_redis_queue_under_the_redis_broker(client, heartbeat, redis_broker):
    from django_q.models import OrmQ
    from django_q.tasks import async_task

    async_task("math.floor", 1.5)
    async_task("math.floor", 2.5)
    assert not OrmQ.objects.exists()  # the jobs wait in Redis, where the old count never looked
    queue = client.get("/healthz").json()["queue"]
    assert queue == {"status": "ok", "broker": "redis", "queued": 2}


@pytest.mark.redis
@pytest.mark.django_db
def test_healthz_fails_when_the_redis_broker_does_not_answer(client, heartbeat, monkeypatch):
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", "redis://127.0.0.1:1/0")  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["queue"]["status"] == "unreachable"
    assert "REDIS_URL" in response.json()["failed"]["queue"]
