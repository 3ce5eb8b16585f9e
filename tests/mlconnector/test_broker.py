"""Q_BROKER picks django-q2's broker: the database (default) or Redis at REDIS_URL."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FERNET_KEY = "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdDE="


def _q_cluster(env: dict) -> subprocess.CompletedProcess:
    """Load the production settings module in a fresh process; print Q_CLUSTER as JSON."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "Q_", "REDIS"))}
    clean.update(
        DEBUG="true",
        SECRET_KEY="x" * 50,
        FIELD_ENCRYPTION_KEY=FERNET_KEY,
        DJANGO_SETTINGS_MODULE="mlconnector.settings",
        PYTHONPATH=str(ROOT),
        **env,
    )
    code = "import json, django; django.setup(); from django.conf import settings; print(json.dumps(settings.Q_CLUSTER))"
    return subprocess.run(
        [sys.executable, "-c", code],
        env=clean,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_database_broker_is_the_default():
    result = _q_cluster({})
    assert result.returncode == 0, result.stderr
    conf = json.loads(result.stdout)
    assert conf["orm"] == "default" and "redis" not in conf


def test_q_broker_redis_uses_redis_url_and_not_the_database():
    result = _q_cluster({"Q_BROKER": "redis", "REDIS_URL": "redis://10.0.0.5:6380/3"})
    assert result.returncode == 0, result.stderr
    conf = json.loads(result.stdout)
    assert conf["redis"] == "redis://10.0.0.5:6380/3"
    assert "orm" not in conf  # django-q2 picks the ORM broker whenever "orm" is set


def test_q_broker_redis_without_redis_url_refuses_to_start():
    result = _q_cluster({"Q_BROKER": "redis"})
    assert result.returncode != 0
    assert "REDIS_URL" in result.stderr


def test_an_unknown_broker_refuses_to_start():
    result = _q_cluster({"Q_BROKER": "rabbit"})
    assert result.returncode != 0
    assert "Q_BROKER" in result.stderr
