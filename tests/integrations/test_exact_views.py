from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import override_settings
from django.urls import reverse
from responses import matchers

from audit.models import AuditEvent
from integrations.models import ConnectionStatus, ExactConnection
from integrations.views.exact_oauth import SESSION_KEY, exact_redirect_uri
from tests import factories
from tests.integrations.exact.rows import fixture

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("live_exact")]

BASE = "https://start.exactonline.nl"
START = "/integrations/exact/connect/"
CALLBACK = "/integrations/exact/callback/"
GOOD = {"access_token": "acc-XYZ", "refresh_token": "ref-XYZ", "expires_in": "600"}


@pytest.fixture
def live_exact():
    with override_settings(
        INTEGRATIONS_MODE="live",
        EXACT_CLIENT_ID="cid",
        EXACT_CLIENT_SECRET="csecret",
        EXACT_BASE_URL=BASE,
    ):
        yield


def start(client, **params) -> str:
    response = client.get(START, params)
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query)["state"][0]


def texts(response) -> list[str]:
    return [m.message for m in get_messages(response.wsgi_request)]


def test_redirect_uri_is_the_public_base_url_plus_the_callback_path():
    assert exact_redirect_uri() == "https://connector.example.test/integrations/exact/callback/"


def test_start_sends_staff_to_exact_with_a_random_state_in_the_session(admin_client):
    response = admin_client.get(START, {"region": "be"})
    location = urlsplit(response["Location"])
    assert location.netloc == "start.exactonline.be" and location.path == "/api/oauth2/auth"
    query = parse_qs(location.query)
    assert query["redirect_uri"] == [exact_redirect_uri()]
    assert admin_client.session[SESSION_KEY]["state"] == query["state"][0]
    assert len(query["state"][0]) >= 40
    assert start(admin_client) != query["state"][0]  # a new state each time


def test_non_staff_and_staff_without_permission_cannot_connect(client, plain_user):
    client.force_login(plain_user)
    assert client.get(START).status_code == 302  # to the admin login
    assert "/admin/login/" in client.get(START)["Location"]
    staff = get_user_model().objects.create_user("clerk", password="pw-x-123", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_exactconnection"))
    client.force_login(staff)
    assert client.get(START).status_code == 403
    assert client.get(CALLBACK, {"state": "x", "code": "y"}).status_code == 403


def test_staff_with_the_change_permission_may_connect(client):
    staff = get_user_model().objects.create_user("fin", password="pw-x-123", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="change_exactconnection"))
    client.force_login(staff)
    assert client.get(START)["Location"].startswith(f"{BASE}/api/oauth2/auth")


def test_callback_connects_and_asks_to_pick_divisions(admin_client, mocked_http):
    state = start(admin_client)
    mocked_http.post(
        f"{BASE}/api/oauth2/token",
        json=GOOD,
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "authorization_code",
                    "code": "c0de!",
                    "client_id": "cid",
                    "redirect_uri": exact_redirect_uri(),
                    "client_secret": "csecret",
                }
            )
        ],
    )
    mocked_http.get(f"{BASE}/api/v1/current/Me", json=fixture("me.json"))
    mocked_http.get(f"{BASE}/api/v1/101/system/Divisions", json=fixture("system_divisions.json"))
    response = admin_client.get(CALLBACK, {"code": "c0de!", "state": state})
    conn = ExactConnection.objects.get()
    assert response["Location"] == reverse(
        "admin:integrations_exactconnection_change", args=[conn.pk]
    )
    assert conn.status == ConnectionStatus.CONNECTED and conn.refresh_token == "ref-XYZ"
    assert conn.divisions.count() == 3 and not conn.divisions.filter(selected=True).exists()
    assert "Tick the divisions" in texts(response)[0]
    assert SESSION_KEY not in admin_client.session  # the state is single use


@pytest.mark.parametrize("params", [{"code": "c"}, {"code": "c", "state": "forged"}])
def test_wrong_or_missing_state_saves_nothing_and_says_so(admin_client, mocked_http, params):
    start(admin_client)
    response = admin_client.get(CALLBACK, params, follow=True)
    assert response.status_code == 200
    assert "wrong state" in response.content.decode().replace("&#x27;", "'")
    assert ExactConnection.objects.count() == 0 and len(mocked_http.calls) == 0


def test_a_state_is_popped_once_and_cannot_be_replayed(admin_client, mocked_http):
    state = start(admin_client)
    admin_client.get(CALLBACK, {"error": "access_denied", "state": state})
    response = admin_client.get(CALLBACK, {"code": "c", "state": state})
    assert "wrong state" in texts(response)[-1]
    assert len(mocked_http.calls) == 0


def test_access_denied_says_the_authorization_was_cancelled(admin_client):
    state = start(admin_client)
    response = admin_client.get(CALLBACK, {"error": "access_denied", "state": state}, follow=True)
    assert "cancelled in Exact Online" in response.content.decode()
    assert ExactConnection.objects.count() == 0


def test_a_failed_code_exchange_ends_on_the_admin_with_a_message(admin_client, mocked_http):
    state = start(admin_client)
    mocked_http.post(f"{BASE}/api/oauth2/token", status=400, json={"error": "invalid_grant"})
    response = admin_client.get(CALLBACK, {"code": "SECRET-CODE", "state": state}, follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "Connecting Exact Online failed" in page
    assert "SECRET-CODE" not in page and "Traceback" not in page
    assert ExactConnection.objects.count() == 0


def test_an_error_text_from_the_callback_is_not_echoed_raw(admin_client):
    state = start(admin_client)
    response = admin_client.get(CALLBACK, {"error": "<script>x</script>", "state": state})
    assert "<script>" not in texts(response)[0]


def test_reauthorize_flow_updates_the_existing_connection(admin_client, mocked_http):
    conn = factories.make_exact_connection(base_url=BASE, status=ConnectionStatus.NEEDS_REAUTH)
    state = start(admin_client, connection=conn.pk)
    mocked_http.post(f"{BASE}/api/oauth2/token", json=GOOD)
    mocked_http.get(f"{BASE}/api/v1/current/Me", json=fixture("me.json"))
    mocked_http.get(f"{BASE}/api/v1/101/system/Divisions", json=fixture("system_divisions.json"))
    admin_client.get(CALLBACK, {"code": "c", "state": state})
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.CONNECTED and conn.access_token == "acc-XYZ"
    assert ExactConnection.objects.count() == 1
    assert AuditEvent.objects.filter(action="exact.reauthorized").exists()


@override_settings(INTEGRATIONS_MODE="sandbox", SANDBOX_URL="http://127.0.0.1:8001")
def test_in_sandbox_mode_the_connection_goes_to_the_sandbox(admin_client):
    response = admin_client.get(START)
    assert response["Location"].startswith("http://127.0.0.1:8001/exact/api/oauth2/auth?")
    assert admin_client.session[SESSION_KEY]["base_url"] == "http://127.0.0.1:8001/exact"


# --- admin pages -----------------------------------------------------------------------------


def test_connection_list_offers_connect_and_no_add(admin_client):
    page = admin_client.get(reverse("admin:integrations_exactconnection_changelist"))
    html = page.content.decode()
    assert "Connect Exact Online" in html and START in html
    assert reverse("admin:integrations_exactconnection_add") not in html


def test_needs_reauth_banner_and_reauthorize_button_without_tokens_or_traceback(admin_client):
    conn = factories.make_exact_connection(
        status=ConnectionStatus.NEEDS_REAUTH, last_error="Old refresh token used."
    )
    html = admin_client.get(
        reverse("admin:integrations_exactconnection_change", args=[conn.pk])
    ).content.decode()
    assert "needs re-authorization" in html and f"{START}?connection={conn.pk}" in html
    assert "Old refresh token used." in html
    assert factories.ACCESS_TOKEN not in html and factories.REFRESH_TOKEN not in html
    assert "Traceback" not in html


def test_test_connection_button_shows_user_division_expiry_and_rate_limit(
    admin_client, mocked_http
):
    conn = factories.make_exact_connection(base_url=BASE)
    mocked_http.get(f"{BASE}/api/v1/current/Me", json=fixture("me.json"))
    url = reverse("admin:integrations_exactconnection_test", args=[conn.pk])
    assert admin_client.get(url).status_code == 405
    response = admin_client.post(url, follow=True)
    html = response.content.decode()
    assert "User: Jan Jansen" in html and "Current division: 101" in html
    assert "valid until" in html and "Remaining rate limit" in html


def test_test_connection_failure_is_a_message_not_a_traceback(admin_client, mocked_http):
    conn = factories.make_exact_connection(base_url=BASE)
    mocked_http.get(f"{BASE}/api/v1/current/Me", status=401)
    mocked_http.post(f"{BASE}/api/oauth2/token", json=GOOD)  # a 401 refreshes once
    mocked_http.get(
        f"{BASE}/api/v1/current/Me",
        status=401,
        match=[matchers.header_matcher({"Authorization": "Bearer acc-XYZ"})],
    )
    conn.access_token_issued_at = datetime.now(UTC)
    response = admin_client.post(
        reverse("admin:integrations_exactconnection_test", args=[conn.pk]), follow=True
    )
    html = response.content.decode()
    assert response.status_code == 200 and "Test failed" in html
    assert "did not accept this connection" in html and "Reconnect Exact Online" in html


def test_a_failed_test_says_what_failed_in_words_not_exacts_own_sentence(admin_client, mocked_http):
    conn = factories.make_exact_connection(base_url=BASE)
    odata = {"error": {"code": "", "message": {"lang": "", "value": "Forbidden: Me (Hid)"}}}
    mocked_http.get(f"{BASE}/api/v1/current/Me", status=403, json=odata)
    response = admin_client.post(
        reverse("admin:integrations_exactconnection_test", args=[conn.pk]), follow=True
    )
    html = response.content.decode()
    assert "Test failed: Exact refused access." in html
    assert "tick this division on the consent page" in html
    assert "Forbidden: Me (Hid)" not in html


def test_divisions_are_picked_in_the_inline(admin_client):
    conn = factories.make_exact_connection(divisions=(101, 102))
    conn.divisions.update(selected=False)
    url = reverse("admin:integrations_exactconnection_change", args=[conn.pk])
    ids = list(conn.divisions.order_by("code").values_list("pk", flat=True))
    data = {
        "name": "Acme",
        "divisions-TOTAL_FORMS": "2",
        "divisions-INITIAL_FORMS": "2",
        "divisions-MIN_NUM_FORMS": "0",
        "divisions-MAX_NUM_FORMS": "1000",
        "divisions-0-id": str(ids[0]),
        "divisions-0-connection": str(conn.pk),
        "divisions-0-selected": "on",
        "divisions-1-id": str(ids[1]),
        "divisions-1-connection": str(conn.pk),
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(conn.divisions.filter(selected=True).values_list("code", flat=True)) == [101]


# --- failures in words, once -------------------------------------------------------------------

MANDATORY_FILTER_BODY = {
    "error": {
        "code": "",
        "message": {
            "lang": "",
            "value": "This endpoint has mandatory filtering applied. A GET request for this "
            "endpoint must have a $filter parameter with one of the following fields in the url: "
            "ID, Code",
        },
    }
}


def test_a_connect_failure_says_what_failed_and_what_to_do_not_the_odata_text(
    admin_client, mocked_http
):
    state = start(admin_client)
    mocked_http.post(f"{BASE}/api/oauth2/token", json=GOOD)
    mocked_http.get(f"{BASE}/api/v1/current/Me", json=fixture("me.json"))
    mocked_http.get(f"{BASE}/api/v1/101/system/Divisions", status=400, json=MANDATORY_FILTER_BODY)
    response = admin_client.get(CALLBACK, {"code": "c", "state": state})
    assert texts(response) == [
        "Connecting Exact Online failed: Could not read the divisions of your Exact Online "
        "user from Exact Online: Exact refused the request. Nothing was saved. Click "
        "“Connect Exact Online” again; if it keeps failing, check the app registration in "
        "Exact Online's App Center."
    ]
    assert ExactConnection.objects.count() == 0


def test_a_reference_refresh_failure_is_reported_once_for_all_divisions_in_words(
    admin_client, mocked_http
):
    conn = factories.make_exact_connection(base_url=BASE, divisions=(101, 102))
    conn.divisions.filter(code=101).update(name="Amsterdam")
    conn.divisions.filter(code=102).update(name="Rotterdam")
    for code in (101, 102):
        mocked_http.get(
            f"{BASE}/api/v1/{code}/sync/Financial/GLAccounts",
            status=400,
            json=MANDATORY_FILTER_BODY,
        )
        mocked_http.get(
            f"{BASE}/api/v1/{code}/hrm/Costcenters",
            json={
                "d": {"results": [{"ID": f"{code:08d}-0000-0000-0000-000000000000", "Code": "KP"}]}
            },
        )
    url = reverse("admin:integrations_exactconnection_refresh_reference", args=[conn.pk])
    response = admin_client.post(url)
    assert texts(response) == [
        "Reference data refreshed. 101: 1 cost center (GL accounts not read); "
        "102: 1 cost center (GL accounts not read).",
        "Could not read the GL accounts of divisions 101 (Amsterdam) and 102 (Rotterdam) from "
        "Exact Online: Exact refused the request. Try again later; if it keeps failing, "
        "reconnect Exact Online.",
    ]
