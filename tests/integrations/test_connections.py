import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import override_settings
from responses import matchers

from audit.models import AuditEvent
from integrations.errors import (
    AccessRefused,
    IntegrationError,
    ReconnectRequired,
    RemoteUnavailable,
)
from integrations.exact import connections
from integrations.exact.oauth import TokenSet
from integrations.models import (
    ConnectionStatus,
    ExactConnection,
    ExactDivision,
    RateBudget,
    WebhookEvent,
)
from tests import factories
from tests.integrations.exact.rows import fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("exact_credentials")]

BASE = "https://start.exactonline.nl"
TOKEN_URL = f"{BASE}/api/oauth2/token"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
NEW = {"access_token": "access-NEW-111", "refresh_token": "refresh-NEW-222", "expires_in": "600"}


@pytest.fixture
def exact_credentials():
    with override_settings(EXACT_CLIENT_ID="cid", EXACT_CLIENT_SECRET="csecret"):
        yield


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def connection_issued(seconds_ago: int, **kw) -> ExactConnection:
    issued = NOW - timedelta(seconds=seconds_ago)
    return factories.make_exact_connection(
        access_token_issued_at=issued,
        refreshed_at=issued,
        access_token_expires_at=issued + timedelta(seconds=600),
        **kw,
    )


def test_a_token_younger_than_570_seconds_is_used_without_a_refresh(frozen, mocked_http):
    conn = connection_issued(300)
    assert connections.ensure_fresh_token(conn) == factories.ACCESS_TOKEN
    assert connections.ensure_fresh_token(conn, force=True) == factories.ACCESS_TOKEN
    assert len(mocked_http.calls) == 0


@pytest.mark.parametrize("age", [575, 660, 3600 * 24])
def test_a_token_inside_the_window_or_expired_is_refreshed_and_both_tokens_saved(
    frozen, mocked_http, age
):
    conn = connection_issued(age)
    mocked_http.post(
        TOKEN_URL,
        json=NEW,
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": factories.REFRESH_TOKEN,
                    "client_id": "cid",
                    "client_secret": "csecret",
                }
            )
        ],
    )
    assert connections.ensure_fresh_token(conn) == "access-NEW-111"
    stored = ExactConnection.objects.get(pk=conn.pk)
    assert (stored.access_token, stored.refresh_token) == ("access-NEW-111", "refresh-NEW-222")
    assert stored.access_token_issued_at == NOW
    assert stored.access_token_expires_at == NOW + timedelta(seconds=600)
    event = AuditEvent.objects.get(action="exact.token_refreshed")
    assert "NEW" not in str(event.before) + str(event.after) + event.message


def test_a_worker_with_a_stale_copy_uses_the_token_another_worker_stored(frozen, mocked_http):
    conn = connection_issued(700)
    ExactConnection.objects.filter(pk=conn.pk).update(access_token_issued_at=NOW)
    fresh = ExactConnection.objects.get(pk=conn.pk)
    fresh.access_token = "from-other-worker"
    fresh.save()
    assert connections.ensure_fresh_token(conn) == "from-other-worker"
    assert len(mocked_http.calls) == 0  # no refresh: the chain is not burnt twice


@pytest.mark.parametrize(
    "status,body",
    [
        (401, {"error": "unauthorized_client", "error_description": "Old refresh token used."}),
        (
            400,
            {
                "error": "invalid_request",
                "error_description": "The refresh token expired at 2026-10-01 and it is now x",
            },
        ),
    ],
)
def test_a_rejected_refresh_marks_the_connection_for_reauthorization(
    frozen, mocked_http, status, body
):
    conn = connection_issued(700)
    mocked_http.post(TOKEN_URL, status=status, json=body)
    with pytest.raises(ReconnectRequired):
        connections.ensure_fresh_token(conn)
    stored = ExactConnection.objects.get(pk=conn.pk)
    assert stored.status == ConnectionStatus.NEEDS_REAUTH
    assert stored.refresh_token == factories.REFRESH_TOKEN  # kept, never overwritten
    assert (
        AuditEvent.objects.filter(action="exact.needs_reauth", object_id=str(conn.pk)).count() == 1
    )
    with pytest.raises(ReconnectRequired):  # later calls stop before the token endpoint
        connections.ensure_fresh_token(stored)
    assert len(mocked_http.calls) == 1


def test_a_too_early_refusal_keeps_using_the_current_token(frozen, mocked_http):
    conn = connection_issued(580)
    mocked_http.post(
        TOKEN_URL,
        status=400,
        headers={"Reason": "TooEarlyToRefreshTokens"},
        json={
            "error": "access_denied",
            "error_description": "Rate limit exceeded: access_token not expired",
        },
    )
    assert connections.ensure_fresh_token(conn) == factories.ACCESS_TOKEN
    assert ExactConnection.objects.get(pk=conn.pk).status == ConnectionStatus.CONNECTED


TOO_EARLY = {
    "error": "access_denied",
    "error_description": "Rate limit exceeded: access_token not expired",
}


def test_a_401_refreshes_once_whatever_the_local_clock_says(frozen, mocked_http):
    conn = connection_issued(60)  # young by our clock; Exact refused it all the same
    mocked_http.post(TOKEN_URL, json=NEW)
    assert connections.ensure_fresh_token(conn, rejected=factories.ACCESS_TOKEN) == (
        "access-NEW-111"
    )
    stored = ExactConnection.objects.get(pk=conn.pk)
    assert (stored.access_token, stored.refresh_token) == ("access-NEW-111", "refresh-NEW-222")
    assert stored.status == ConnectionStatus.CONNECTED
    assert len(mocked_http.calls) == 1
    assert AuditEvent.objects.filter(action="exact.token_refreshed").count() == 1


def test_a_401_after_another_worker_rotated_the_token_uses_it_without_a_refresh(
    frozen, mocked_http
):
    conn = connection_issued(60)
    other = ExactConnection.objects.get(pk=conn.pk)
    other.access_token = "from-other-worker"
    other.save()
    assert connections.ensure_fresh_token(conn, rejected=factories.ACCESS_TOKEN) == (
        "from-other-worker"
    )
    assert len(mocked_http.calls) == 0  # one refresh for N workers: the chain is not burnt twice


def test_a_401_whose_refresh_is_too_early_raises_access_refused_and_stays_connected(
    frozen, mocked_http
):
    conn = connection_issued(60)
    mocked_http.post(
        TOKEN_URL, status=400, headers={"Reason": "TooEarlyToRefreshTokens"}, json=TOO_EARLY
    )
    with pytest.raises(AccessRefused) as caught:
        connections.ensure_fresh_token(conn, rejected=factories.ACCESS_TOKEN)
    assert "although the access token is still valid" in caught.value.message
    assert "consent" in caught.value.hint and "scopes" in caught.value.hint
    stored = ExactConnection.objects.get(pk=conn.pk)
    assert stored.status == ConnectionStatus.CONNECTED
    assert stored.refresh_token == factories.REFRESH_TOKEN
    assert not AuditEvent.objects.filter(action="exact.needs_reauth").exists()
    assert len(mocked_http.calls) == 1


@pytest.mark.parametrize(
    "status,body",
    [
        (401, {"error": "unauthorized_client", "error_description": "Old refresh token used."}),
        (400, {"error": "invalid_request", "error_description": "The refresh token expired at x"}),
        (400, {"error": "invalid_grant", "error_description": "Bad Request"}),
    ],
)
def test_a_401_whose_refresh_is_refused_marks_the_connection_for_reauthorization(
    frozen, mocked_http, status, body
):
    conn = connection_issued(60)
    mocked_http.post(TOKEN_URL, status=status, json=body)
    with pytest.raises(ReconnectRequired):
        connections.ensure_fresh_token(conn, rejected=factories.ACCESS_TOKEN)
    stored = ExactConnection.objects.get(pk=conn.pk)
    assert stored.status == ConnectionStatus.NEEDS_REAUTH
    assert body["error_description"] in stored.last_error


def test_a_401_while_the_token_endpoint_is_down_is_not_answered_with_the_refused_token(
    frozen, mocked_http
):
    conn = connection_issued(60)
    mocked_http.post(TOKEN_URL, status=503)
    with pytest.raises(RemoteUnavailable):
        connections.ensure_fresh_token(conn, rejected=factories.ACCESS_TOKEN)
    assert ExactConnection.objects.get(pk=conn.pk).status == ConnectionStatus.CONNECTED


def test_token_endpoint_down_uses_a_still_valid_token_but_not_an_expired_one(frozen, mocked_http):
    valid = connection_issued(580)
    mocked_http.post(TOKEN_URL, status=503)
    assert connections.ensure_fresh_token(valid) == factories.ACCESS_TOKEN
    expired = connection_issued(900, name="Other")
    with pytest.raises(RemoteUnavailable):
        connections.ensure_fresh_token(expired)
    assert ExactConnection.objects.get(pk=expired.pk).status == ConnectionStatus.CONNECTED


def test_refresh_logs_never_contain_tokens(frozen, mocked_http, caplog):
    conn = connection_issued(700)
    mocked_http.post(TOKEN_URL, json=NEW)
    with caplog.at_level(logging.DEBUG):
        connections.ensure_fresh_token(conn)
    text = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    for secret in (
        factories.REFRESH_TOKEN,
        factories.ACCESS_TOKEN,
        "access-NEW",
        "refresh-NEW",
        "csecret",
    ):
        assert secret not in text


def test_mark_needs_reauth_is_idempotent_and_audited_once(exact_connection):
    connections.mark_needs_reauth(exact_connection, reason="401 after refresh")
    connections.mark_needs_reauth(exact_connection, reason="401 after refresh")
    assert exact_connection.status == ConnectionStatus.NEEDS_REAUTH
    assert AuditEvent.objects.filter(action="exact.needs_reauth").count() == 1


# --- connect ------------------------------------------------------------------------------


def tokens() -> TokenSet:
    return TokenSet("fresh-access", "fresh-refresh", 600, NOW)


def mock_me_and_divisions(mocked_http):
    mocked_http.get(
        f"{BASE}/api/v1/current/Me",
        json=fixture("me.json"),
        match=[matchers.header_matcher({"Authorization": "Bearer fresh-access"})],
    )
    mocked_http.get(f"{BASE}/api/v1/101/system/Divisions", json=fixture("system_divisions.json"))


def test_connect_stores_tokens_user_and_unselected_divisions(frozen, mocked_http, staff_user):
    mock_me_and_divisions(mocked_http)
    conn = connections.connect_exact(user=staff_user, base_url=BASE, region="nl", tokens=tokens())
    conn = ExactConnection.objects.get(pk=conn.pk)
    assert conn.status == ConnectionStatus.CONNECTED
    assert (conn.access_token, conn.refresh_token) == ("fresh-access", "fresh-refresh")
    assert (conn.exact_user_name, conn.current_division, conn.name) == (
        "Jan Jansen",
        101,
        "Acme BV",
    )
    divisions = list(conn.divisions.values_list("code", "currency", "selected"))
    assert divisions == [(101, "EUR", False), (102, "EUR", False), (103, "GBP", False)]
    event = AuditEvent.objects.get(action="exact.connected")
    assert event.actor == staff_user.username and "fresh" not in str(event.after)


def test_connect_saves_nothing_when_exact_fails(mocked_http, staff_user):
    mocked_http.get(f"{BASE}/api/v1/current/Me", json=fixture("me.json"))
    mocked_http.get(
        f"{BASE}/api/v1/101/system/Divisions",
        status=403,
        json={"error": {"message": {"value": "Application Scope Violated"}}},
    )
    with pytest.raises(IntegrationError):
        connections.connect_exact(user=staff_user, base_url=BASE, region="nl", tokens=tokens())
    assert ExactConnection.objects.count() == 0 and ExactDivision.objects.count() == 0


def test_the_same_exact_user_cannot_be_connected_twice(mocked_http, staff_user):
    factories.make_exact_connection(
        exact_user_id="6f2c0a1e-0000-0000-0000-000000000001", base_url=BASE
    )
    mock_me_and_divisions(mocked_http)
    with pytest.raises(IntegrationError, match="already connected"):
        connections.connect_exact(user=staff_user, base_url=BASE, region="nl", tokens=tokens())
    assert ExactConnection.objects.count() == 1


def test_reauthorization_keeps_selected_divisions_and_releases_waiting_events(
    frozen, mocked_http, staff_user
):
    conn = factories.make_exact_connection(
        base_url=BASE, status=ConnectionStatus.NEEDS_REAUTH, divisions=(101,)
    )
    WebhookEvent.objects.create(
        dedupe_key="a",
        topic="SalesInvoices",
        division=101,
        raw_body="{}",
        state=WebhookEvent.State.WAITING,
    )
    mock_me_and_divisions(mocked_http)
    connections.connect_exact(
        user=staff_user, base_url=BASE, region="nl", tokens=tokens(), connection=conn
    )
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.CONNECTED and conn.access_token == "fresh-access"
    assert conn.divisions.get(code=101).selected is True
    assert conn.divisions.count() == 3
    assert WebhookEvent.objects.get().state == WebhookEvent.State.PENDING
    assert AuditEvent.objects.filter(action="exact.reauthorized").count() == 1


# --- test connection, keep-alive ------------------------------------------------------------


def test_test_connection_reports_user_division_expiry_and_rate_limit(frozen, mocked_http):
    conn = connection_issued(60)
    RateBudget.objects.create(
        connection=conn,
        division=101,
        minutely_remaining=42,
        minutely_reset_at=NOW + timedelta(seconds=30),
        daily_remaining=4000,
    )
    mocked_http.get(f"{conn.base_url}/api/v1/current/Me", json=fixture("me.json"))
    result = connections.test_exact_connection(conn)
    assert result["user"] == "Jan Jansen" and result["division"] == 101
    assert result["token_expires_at"] == NOW + timedelta(seconds=540)
    assert result["rate_limits"][0]["minutely_remaining"] == 42


def test_keep_alive_refreshes_only_connections_idle_for_20_days(frozen, mocked_http):
    idle = connection_issued(21 * 24 * 3600, name="Idle")
    busy = connection_issued(2 * 24 * 3600, name="Busy")
    broken = connection_issued(25 * 24 * 3600, name="Broken", status=ConnectionStatus.NEEDS_REAUTH)
    mocked_http.post(TOKEN_URL, json=NEW)
    assert connections.keep_alive_exact_connections() == 1
    assert ExactConnection.objects.get(pk=idle.pk).refreshed_at == NOW
    assert ExactConnection.objects.get(pk=busy.pk).refreshed_at < NOW
    assert ExactConnection.objects.get(pk=broken.pk).refreshed_at < NOW


def test_idle_warning_appears_after_25_days(frozen):
    assert connections.idle_warning(connection_issued(24 * 24 * 3600)) == ""
    assert "4 left" in connections.idle_warning(connection_issued(26 * 24 * 3600, name="b"))


def test_a_401_after_a_refresh_flags_the_connection_through_the_factory(frozen, mocked_http):
    from integrations.exact.connections import for_connection

    conn = connection_issued(60)
    url = f"{conn.base_url}/api/v1/101/salesinvoice/SalesInvoices"
    mocked_http.get(
        url,
        status=401,
        match=[matchers.header_matcher({"Authorization": f"Bearer {factories.ACCESS_TOKEN}"})],
    )
    mocked_http.post(TOKEN_URL, json=NEW)  # the 401 refreshes, young as the token is locally
    mocked_http.get(
        url, status=401, match=[matchers.header_matcher({"Authorization": "Bearer access-NEW-111"})]
    )
    with pytest.raises(ReconnectRequired):
        for_connection(conn).get("salesinvoice/SalesInvoices", division=101)
    stored = ExactConnection.objects.get(pk=conn.pk)
    assert stored.status == ConnectionStatus.NEEDS_REAUTH
    assert stored.refresh_token == "refresh-NEW-222"  # the rotated pair was kept
    assert "HTTP 401" in stored.last_error
    assert AuditEvent.objects.filter(action="exact.needs_reauth").count() == 1
