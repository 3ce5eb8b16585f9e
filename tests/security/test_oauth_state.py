"""OAuth callbacks with a wrong, reused or missing `state`: an admin page says so, nothing is
saved, and no code is exchanged."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from integrations.models import ExactConnection, MondayConnection
from integrations.views.exact_oauth import exact_redirect_uri
from tests.reliability.counters import COUNTS

pytestmark = pytest.mark.django_db
EXACT_REFUSAL = "could not be matched to a sign-in started here (missing or wrong state)"
MONDAY_REFUSAL = "The Monday.com sign-in could not be verified. Please start again."


@pytest.fixture
def exact(stack, admin_client):
    """The Exact sandbox served, our settings pointing at it, a staff browser logged in."""
    stack.exact.add_division(101, "Amsterdam")
    with override_settings(SANDBOX_URL=stack.url):
        yield stack


def start_exact(client) -> str:
    response = client.get("/integrations/exact/connect/?region=nl")
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


def exact_callback(client, **params):
    return client.get("/integrations/exact/callback/", params, follow=True)


def assert_exact_refused(response, stack, token_requests_before=0):
    COUNTS["bad inputs tried: OAuth callbacks with a bad state"] += 1
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].endswith("/admin/integrations/exactconnection/")
    assert EXACT_REFUSAL in response.content.decode()
    assert "Nothing was saved" in response.content.decode()
    assert len(stack.exact.token_requests) == token_requests_before  # no code exchanged


def test_exact_callback_without_state_is_refused(exact, admin_client):
    start_exact(admin_client)
    code = exact.exact.issue_authorization_code(exact_redirect_uri())
    assert_exact_refused(exact_callback(admin_client, code=code), exact)
    assert ExactConnection.objects.count() == 0


def test_exact_callback_with_a_wrong_state_is_refused(exact, admin_client):
    state = start_exact(admin_client)
    code = exact.exact.issue_authorization_code(exact_redirect_uri())
    response = exact_callback(admin_client, code=code, state=state[:-1] + "x")
    assert_exact_refused(response, exact)
    assert ExactConnection.objects.count() == 0


def test_exact_callback_without_a_started_sign_in_is_refused(exact, admin_client):
    code = exact.exact.issue_authorization_code(exact_redirect_uri())
    assert_exact_refused(exact_callback(admin_client, code=code, state="anything"), exact)
    assert ExactConnection.objects.count() == 0


def test_exact_state_is_single_use(exact, admin_client):
    state = start_exact(admin_client)
    code = exact.exact.issue_authorization_code(exact_redirect_uri())
    first = exact_callback(admin_client, code=code, state=state)
    assert "Connected to Exact Online" in first.content.decode()
    conn = ExactConnection.objects.get()
    tokens = (conn.access_token, conn.refresh_token)
    second_code = exact.exact.issue_authorization_code(exact_redirect_uri())
    response = exact_callback(admin_client, code=second_code, state=state)
    assert_exact_refused(response, exact, token_requests_before=1)
    conn.refresh_from_db()
    assert (
        ExactConnection.objects.count() == 1 and (conn.access_token, conn.refresh_token) == tokens
    )


def test_exact_state_from_another_browser_is_refused(exact, admin_client):
    state = start_exact(admin_client)
    other = Client()
    other.force_login(
        get_user_model().objects.create_superuser("other", "o@example.test", "pw-other-123")
    )
    code = exact.exact.issue_authorization_code(exact_redirect_uri())
    assert_exact_refused(exact_callback(other, code=code, state=state), exact)
    assert ExactConnection.objects.count() == 0


# -- Monday.com -----------------------------------------------------------------------------


@pytest.fixture
def monday(admin_client, mocked_http):
    """Monday OAuth configured; mocked_http has no answers, so any exchange would fail loudly."""
    with override_settings(MONDAY_CLIENT_ID="monday-client", MONDAY_CLIENT_SECRET="m-secret"):
        yield admin_client


def start_monday(client) -> str:
    response = client.get("/integrations/monday/start/")
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


def assert_monday_refused(response, mocked_http):
    COUNTS["bad inputs tried: OAuth callbacks with a bad state"] += 1
    assert response.redirect_chain[-1][0].endswith("/admin/integrations/mondayconnection/")
    assert MONDAY_REFUSAL in response.content.decode()
    assert MondayConnection.objects.count() == 0
    assert len(mocked_http.calls) == 0  # no code exchanged


@pytest.mark.parametrize("state", [None, "", "wrong-state"])
def test_monday_callback_with_a_missing_or_wrong_state_is_refused(monday, mocked_http, state):
    start_monday(monday)
    params = {"code": "monday-code-123"} | ({"state": state} if state is not None else {})
    response = monday.get("/integrations/monday/callback/", params, follow=True)
    assert_monday_refused(response, mocked_http)


def test_monday_state_is_single_use(monday, mocked_http):
    state = start_monday(monday)
    cancelled = monday.get(
        "/integrations/monday/callback/", {"state": state, "error": "access_denied"}, follow=True
    )
    assert "Connecting Monday.com was cancelled." in cancelled.content.decode()
    response = monday.get(
        "/integrations/monday/callback/", {"state": state, "code": "monday-code-123"}, follow=True
    )
    assert_monday_refused(response, mocked_http)
