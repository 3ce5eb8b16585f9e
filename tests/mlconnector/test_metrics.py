"""/metrics: who may read it, and that its figures are the database's after a sandbox sync."""

from __future__ import annotations

from collections import Counter

import pytest
from prometheus_client.parser import text_string_to_metric_families

from integrations.models import (
    ApiCallCount,
    ConnectionStatus,
    PollCursor,
    RateBudget,
    SyncedRecord,
    WebhookEvent,
)
from integrations.sync import polling
from tests.reliability.conftest import make_live

TOKEN = "scrape-token-for-tests"


def scrape(client, token=TOKEN) -> dict:
    """{(name, labels as a sorted tuple): value} of one scrape with the bearer token."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def api_counts() -> Counter:
    return Counter({(row.system, row.status): row.count for row in ApiCallCount.objects.all()})


@pytest.mark.django_db
def test_metrics_do_not_exist_without_a_token_or_a_staff_login(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.django_db
def test_metrics_need_the_bearer_token(client, settings):
    settings.METRICS_TOKEN = TOKEN
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


@pytest.mark.django_db
def test_a_staff_member_reads_metrics_but_not_a_plain_user(client, settings, plain_user):
    settings.METRICS_TOKEN = ""
    client.force_login(plain_user)
    assert client.get("/metrics").status_code == 404
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("staff", is_staff=True))
    assert b"mlconnector_webhook_events" in client.get("/metrics").content
    # With a second factor required, a session that has not given one is not enough.
    settings.ADMIN_REQUIRE_2FA = True
    refused = client.get("/metrics")
    assert refused.status_code in (302, 404) and b"mlconnector_" not in refused.content


@pytest.mark.django_db
def test_metrics_match_the_database_after_a_sandbox_sync(client, settings, stack):
    settings.METRICS_TOKEN = TOKEN
    before = api_counts()  # PostgreSQL: counts are committed on their own connection
    live = make_live(stack)
    live.invoice(amounts=(100,))
    live.invoice(amounts=(200,))
    live.exact.add_cost_center(101, "KP-300", "Unmapped office")
    live.invoice(cc="KP-300", amounts=(300,))  # no mapping for KP-300: flagged
    assert live.drain() == ["done", "done", "done"]
    polling.poll_route(live.route_obj)

    got = scrape(client)

    def value(name, **labels):
        return got[(name, tuple(sorted(labels.items())))]

    states = Counter(WebhookEvent.objects.values_list("state", flat=True))
    assert value("mlconnector_webhook_events_received") == 3 == sum(states.values())
    for state in WebhookEvent.State.values:
        assert value("mlconnector_webhook_events", state=state) == states[state]
    assert value("mlconnector_webhook_events", state="done") == 3

    route = live.route_obj.name
    assert value("mlconnector_items", route=route, state="synced") == 2
    assert value("mlconnector_items", route=route, state="flagged") == 1
    assert SyncedRecord.objects.filter(state="flagged").count() == 1

    # Every call the sandboxes answered was counted once, by status.
    made = api_counts() - before
    exact_seen = Counter(("exact", str(status)) for _, _, status in live.exact.calls)
    monday_seen = Counter(("monday", str(r["status"])) for r in live.monday.requests)
    assert made == exact_seen + monday_seen and made
    for (system, status), count in api_counts().items():
        assert value("mlconnector_api_calls_total", system=system, status=status) == count

    exact_name = live.exact_conn.name
    for budget in RateBudget.objects.exclude(division=0):
        labels = {"connection": exact_name, "division": str(budget.division)}
        assert value("mlconnector_exact_calls_left_today", **labels) == budget.daily_remaining
    left = value("mlconnector_exact_calls_left_today", connection=exact_name, division="101")
    assert left < 5000  # the sandbox's daily limit, less what this sync spent
    monday_left = value("mlconnector_monday_budget_left", connection="Sandbox Monday")
    assert 0 < monday_left < 10_000_000  # points spent in this window

    # The three webhooks queued one job (job_queue.py), which this test's drain did not take.
    from django_q.models import OrmQ

    assert value("mlconnector_queue_depth", broker="orm") == OrmQ.objects.count() == 1
    assert (
        value("mlconnector_connection_needs_reauthorization", system="exact", connection=exact_name)
        == 0
    )
    assert PollCursor.objects.filter(route=live.route_obj, last_success_at__isnull=False).exists()
    lag = value("mlconnector_poll_lag_seconds", route=route, division="101")
    assert 0 <= lag < 5

    live.exact_conn.status = ConnectionStatus.NEEDS_REAUTH
    live.exact_conn.save(update_fields=["status"])
    assert (
        scrape(client)[
            (
                "mlconnector_connection_needs_reauthorization",
                (("connection", exact_name), ("system", "exact")),
            )
        ]
        == 1
    )
