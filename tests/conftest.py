"""The shared cast: users, connections with encrypted test tokens, a route, HTTP fakes."""

from __future__ import annotations

import pytest
import responses
from django.contrib.auth import get_user_model

from tests import factories


def pytest_collection_modifyitems(config, items):
    """The postgres marker runs only on PostgreSQL; on SQLite it is deselected, never skipped."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    kept = [i for i in items if "postgres" not in i.keywords]
    deselected = [i for i in items if "postgres" in i.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture
def staff_user(db):
    return get_user_model().objects.create_superuser("admin", "admin@example.test", "pw-admin-123")


@pytest.fixture
def plain_user(db):
    return get_user_model().objects.create_user("plain", "plain@example.test", "pw-plain-123")


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def exact_connection(db):
    return factories.make_exact_connection()


@pytest.fixture
def monday_connection(db):
    return factories.make_monday_connection()


@pytest.fixture
def route(exact_connection, monday_connection):
    return factories.make_route(exact_connection, monday_connection)


@pytest.fixture
def mocked_http():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def pytest_terminal_summary(terminalreporter):
    from tests.reliability.counters import COUNTS

    if COUNTS:
        terminalreporter.section("reliability")
        for name, count in sorted(COUNTS.items()):
            terminalreporter.write_line(f"{count} {name}")


@pytest.fixture
def fast_backoff(monkeypatch):
    """Keep the clients' retry policy, shrink its waits: sandbox tests never sleep for seconds."""
    from integrations.exact.client import ExactClient
    from integrations.monday.client import MondayClient

    monkeypatch.setattr(ExactClient, "backoff_base", 0.001)
    monkeypatch.setattr(MondayClient, "backoff_base", 0.001)


@pytest.fixture
def stack(staff_user, fast_backoff, settings):
    """Both sandboxes served, our connections to them made through the real services."""
    from tests.stack import WEBHOOK_SECRET, Stack

    settings.EXACT_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.EXACT_CLIENT_ID = "sandbox-client"
    settings.EXACT_CLIENT_SECRET = "sandbox-secret"
    s = Stack(staff_user)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def redis_url():
    """Redis for the broker tests (database 6 unless TEST_REDIS_URL says otherwise). Fails,
    never skips, when Redis is down: CI starts it, and a skipped broker test proves nothing."""
    import os

    import redis

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/6")
    try:
        redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis at {url} is unreachable ({exc}). Start it (`redis-server --daemonize yes`; "
            "`.ci/run` does) or set TEST_REDIS_URL; `-m 'not redis'` leaves these tests out."
        )
    return url


@pytest.fixture
def redis_broker(redis_url, monkeypatch):
    """Point this process's django-q2 at Redis, as Q_BROKER=redis does, with an empty queue.

    django-q2 reads Q_CLUSTER once, into its Conf class; the worker subprocesses get the
    setting through the environment instead."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", redis_url)
    broker = get_broker()
    broker.delete_queue()
    yield broker
    broker.delete_queue()


@pytest.fixture(autouse=True)
def _fresh_route_memory():
    """Each test's database starts anew (rolled back, no signal): so does the memory of which
    divisions have routes (sync/routing.py), as in a process started for it."""
    from integrations.sync import routing

    routing.forget_routes()


@pytest.fixture(autouse=True)
def _close_monday_budget_connection():
    """The shared Monday budget has its own PostgreSQL connection per thread: close this
    thread's after each test, so the test database can be dropped at the end."""
    yield
    from integrations.api_calls import close_side_connection
    from integrations.monday.shared_budget import close_budget_connection

    close_budget_connection()
    close_side_connection()
