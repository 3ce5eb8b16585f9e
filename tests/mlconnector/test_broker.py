"""Q_BROKER picks django-q2's broker: the database (default) or Redis at REDIS_URL."""

import json

from tests.subprocess_settings import run_python


def _q_cluster(env: dict):
    """Load the production settings module in a fresh process; print Q_CLUSTER as JSON."""
    code = "import json, django; django.setup(); from django.conf import settings; print(json.dumps(settings.Q_CLUSTER))"
    return run_python(code, env, drop=("Q_", "REDIS"))


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
