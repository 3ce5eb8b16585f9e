"""Monday.com connections: connect by token or OAuth, test, needs-attention, admin screens."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from responses import matchers

from audit.models import AuditEvent
from integrations.forms import RouteColumnsForm, role_field_name
from integrations.models import ColumnRole, ConnectionStatus, MondayBoard, MondayConnection
from integrations.monday import connections as svc
from integrations.monday.errors import MondayAuthError
from integrations.monday.items import ItemWrite
from tests.factories import MONDAY_TOKEN

API = "https://api.monday.com/v2"
AUTH = "https://auth.monday.test"
ME = {
    "data": {
        "me": {
            "id": "7",
            "name": "Anna Admin",
            "email": "anna@acme.test",
            "account": {"id": "1", "name": "Acme BV", "slug": "acme"},
        },
        "complexity": {
            "before": 10_000_000,
            "after": 9_999_000,
            "query": 1000,
            "reset_in_x_seconds": 42,
        },
    }
}
UNAUTHENTICATED = {
    "errors": [{"message": "Not Authenticated", "extensions": {"code": "UNAUTHENTICATED"}}]
}
NEW_TOKEN = "pasted-token-ZZZZZZZZZZZZZZZZZZZZ"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def live_mode(settings):
    settings.INTEGRATIONS_MODE = "live"
    settings.MONDAY_API_URL = API


def test_sandbox_mode_sends_new_connections_to_the_local_sandbox(settings, staff_user, mocked_http):
    settings.INTEGRATIONS_MODE = "sandbox"
    settings.SANDBOX_URL = "http://127.0.0.1:8001"
    mocked_http.post("http://127.0.0.1:8001/monday/v2", json=ME)
    conn = svc.connect_monday_token(user=staff_user, name="Demo", token=NEW_TOKEN)
    assert conn.api_url == "http://127.0.0.1:8001/monday/v2"


def test_a_pasted_token_is_validated_with_me_and_saved_encrypted(mocked_http, staff_user):
    mocked_http.post(API, json=ME, match=[matchers.header_matcher({"Authorization": NEW_TOKEN})])
    conn = svc.connect_monday_token(user=staff_user, name="Finance", token=f"  {NEW_TOKEN}\n")
    conn.refresh_from_db()
    assert (conn.status, conn.user_name, conn.account_name) == (
        ConnectionStatus.CONNECTED,
        "Anna Admin",
        "Acme BV",
    )
    assert conn.api_token == NEW_TOKEN and conn.auth_kind == MondayConnection.AuthKind.TOKEN
    assert conn.complexity_remaining == 9_999_000
    event = AuditEvent.objects.get(action="monday.connection.connected")
    assert NEW_TOKEN not in json.dumps([event.before, event.after, event.message])


def test_a_rejected_token_saves_nothing(mocked_http, staff_user):
    mocked_http.post(API, status=401, json=UNAUTHENTICATED)
    with pytest.raises(MondayAuthError):
        svc.connect_monday_token(user=staff_user, name="Finance", token=NEW_TOKEN)
    assert not MondayConnection.objects.exists()


def test_an_invalid_token_marks_the_connection_needing_attention_audited_and_shown_in_admin(
    mocked_http, monday_connection, admin_client
):
    mocked_http.post(API, status=401, json=UNAUTHENTICATED)
    result = svc.test_monday_connection(monday_connection)
    assert result["ok"] is False
    monday_connection.refresh_from_db()
    assert monday_connection.status == ConnectionStatus.NEEDS_REAUTH
    assert "Not Authenticated" in monday_connection.last_error
    event = AuditEvent.objects.get(action="monday.connection.needs_attention")
    assert event.after == {"status": ConnectionStatus.NEEDS_REAUTH}
    page = admin_client.get("/admin/integrations/mondayconnection/").content.decode()
    assert "Needs re-authorization" in page and "Not Authenticated" in page
    assert MONDAY_TOKEN not in page


def test_needs_attention_is_audited_once_for_the_same_reason(monday_connection):
    svc.mark_monday_needs_attention(monday_connection, reason="Token rejected.")
    svc.mark_monday_needs_attention(monday_connection, reason="Token rejected.")
    assert AuditEvent.objects.filter(action="monday.connection.needs_attention").count() == 1


def test_a_working_connection_tests_ok_and_records_the_budget(mocked_http, monday_connection):
    mocked_http.post(API, json=ME)
    result = svc.test_monday_connection(monday_connection)
    assert result["ok"] and result["message"] == "Connected as Anna Admin (Acme BV)."
    monday_connection.refresh_from_db()
    assert monday_connection.complexity_remaining == 9_999_000


def test_an_upsert_with_a_rejected_token_marks_the_connection(mocked_http, monday_connection):
    mocked_http.post(API, status=401, json=UNAUTHENTICATED)
    with pytest.raises(MondayAuthError):
        svc.upsert_for_connection(monday_connection, [ItemWrite("a", "1", "topics", "A", {})])
    monday_connection.refresh_from_db()
    assert monday_connection.status == ConnectionStatus.NEEDS_REAUTH


# OAuth views
@pytest.fixture
def oauth_settings(settings):
    settings.MONDAY_CLIENT_ID = "client-1"
    settings.MONDAY_CLIENT_SECRET = "secret-1"
    settings.MONDAY_AUTH_URL = AUTH
    return settings


def test_oauth_start_redirects_to_monday_with_a_state_kept_in_the_session(
    admin_client, oauth_settings
):
    response = admin_client.get("/integrations/monday/start/?name=Finance")
    assert response.status_code == 302
    url = urlparse(response["Location"])
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{AUTH}/oauth2/authorize"
    assert query["redirect_uri"] == ["https://connector.example.test/integrations/monday/callback/"]
    assert query["scope"] == ["boards:read boards:write me:read"]
    assert query["state"][0] in admin_client.session["monday_oauth"]


def test_oauth_callback_exchanges_the_code_and_connects(admin_client, oauth_settings, mocked_http):
    state = parse_qs(
        urlparse(admin_client.get("/integrations/monday/start/?name=Finance")["Location"]).query
    )["state"][0]
    mocked_http.post(
        f"{AUTH}/oauth2/token",
        json={"access_token": "oauth-access-YYYYYYYY", "token_type": "Bearer", "scope": "me:read"},
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "client_id": "client-1",
                    "client_secret": "secret-1",
                    "code": "the-code",
                    "redirect_uri": "https://connector.example.test/integrations/monday/callback/",
                }
            )
        ],
    )
    mocked_http.post(
        API, json=ME, match=[matchers.header_matcher({"Authorization": "oauth-access-YYYYYYYY"})]
    )
    response = admin_client.get(f"/integrations/monday/callback/?code=the-code&state={state}")
    conn = MondayConnection.objects.get()
    assert response["Location"] == f"/admin/integrations/mondayconnection/{conn.pk}/change/"
    assert (conn.name, conn.auth_kind, conn.status) == (
        "Finance",
        "oauth",
        ConnectionStatus.CONNECTED,
    )
    # The state is single use.
    again = admin_client.get(f"/integrations/monday/callback/?code=the-code&state={state}")
    assert again["Location"] == "/admin/integrations/mondayconnection/"
    assert MondayConnection.objects.count() == 1


def test_oauth_callback_with_a_wrong_state_exchanges_nothing(admin_client, oauth_settings):
    admin_client.get("/integrations/monday/start/")
    response = admin_client.get("/integrations/monday/callback/?code=x&state=forged", follow=True)
    assert "could not be verified" in response.content.decode()
    assert not MondayConnection.objects.exists()


def test_oauth_cancelled_by_the_user_says_so(admin_client, oauth_settings):
    state = parse_qs(urlparse(admin_client.get("/integrations/monday/start/")["Location"]).query)[
        "state"
    ][0]
    response = admin_client.get(
        f"/integrations/monday/callback/?error=access_denied&state={state}", follow=True
    )
    assert "Connecting Monday.com was cancelled." in response.content.decode()


def test_oauth_views_are_for_staff_only(client, plain_user, oauth_settings):
    client.force_login(plain_user)
    response = client.get("/integrations/monday/start/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_oauth_without_client_id_explains_what_to_do(admin_client, settings):
    settings.MONDAY_CLIENT_ID = ""
    response = admin_client.get("/integrations/monday/start/", follow=True)
    assert "Monday.com OAuth is not configured." in response.content.decode()


# Admin
def test_admin_add_validates_the_pasted_token_and_never_shows_it(admin_client, mocked_http):
    mocked_http.post(API, json=ME)
    response = admin_client.post(
        "/admin/integrations/mondayconnection/add/", {"name": "Finance", "token": NEW_TOKEN}
    )
    assert response.status_code == 302
    conn = MondayConnection.objects.get()
    assert conn.user_name == "Anna Admin"
    page = admin_client.get(
        f"/admin/integrations/mondayconnection/{conn.pk}/change/"
    ).content.decode()
    assert NEW_TOKEN not in page and "Acme BV" in page


def test_admin_add_with_a_rejected_token_shows_the_error_and_creates_nothing(
    admin_client, mocked_http
):
    mocked_http.post(API, status=401, json=UNAUTHENTICATED)
    response = admin_client.post(
        "/admin/integrations/mondayconnection/add/", {"name": "Finance", "token": "bad"}
    )
    assert response.status_code == 200
    assert "Not Authenticated" in response.content.decode()
    assert not MondayConnection.objects.exists()


def test_a_rejected_token_is_shown_on_the_token_field_in_words(admin_client, mocked_http):
    mocked_http.post(API, status=401, json=UNAUTHENTICATED)
    response = admin_client.post(
        "/admin/integrations/mondayconnection/add/", {"name": "Finance", "token": "bad"}
    )
    form = response.context["adminform"].form
    assert not form.non_field_errors()
    (message,) = form.errors["token"]
    assert message.startswith("Monday.com did not accept this token")
    assert "Not Authenticated" in message and "My access tokens" in message
    assert not MondayConnection.objects.exists()


BOARDS = {
    "data": {
        "boards": [
            {
                "id": "1001",
                "name": "Finance",
                "type": "board",
                "columns": [
                    {"id": "exact_key", "title": "Exact key", "type": "text", "settings_str": "{}"},
                    {"id": "amount", "title": "Amount", "type": "numbers", "settings_str": "{}"},
                    {
                        "id": "cost_center",
                        "title": "Cost center",
                        "type": "dropdown",
                        "settings_str": json.dumps({"labels": [{"id": 1, "name": "KP-100"}]}),
                    },
                    {"id": "when", "title": "Invoice date", "type": "date", "settings_str": "{}"},
                    {
                        "id": "subitems",
                        "title": "Subitems",
                        "type": "subtasks",
                        "settings_str": json.dumps({"boardIds": [2002]}),
                    },
                ],
                "groups": [{"id": "topics", "title": "Incoming"}],
            },
            {
                "id": "2002",
                "name": "Subitems of Finance",
                "type": "sub_items_board",
                "columns": [
                    {"id": "line_key", "title": "Line", "type": "text", "settings_str": "{}"}
                ],
                "groups": [],
            },
        ]
    }
}


def test_the_refresh_boards_button_caches_boards_groups_and_columns(
    admin_client, mocked_http, monday_connection
):
    mocked_http.post(API, json=BOARDS)
    page = admin_client.get("/admin/integrations/mondayboard/").content.decode()
    assert 'id="refresh-boards"' in page
    response = admin_client.post("/admin/integrations/mondayboard/refresh/", follow=True)
    assert "1 board refreshed." in response.content.decode()
    board = MondayBoard.objects.get()
    assert board.subitem_board_id == "2002" and board.subitem_columns[0]["id"] == "line_key"
    assert board.columns[2]["settings"] == {"labels": [{"id": 1, "name": "KP-100"}]}
    assert AuditEvent.objects.filter(action="monday.boards.refreshed").exists()


def _board(conn):
    return MondayBoard.objects.create(
        connection=conn,
        board_id="1001",
        name="Finance",
        columns=[
            {"id": "exact_key", "title": "Exact key", "type": "text", "settings": {}},
            {"id": "amount", "title": "Amount", "type": "numbers", "settings": {}},
            {"id": "cost_center", "title": "Cost center", "type": "dropdown", "settings": {}},
            {"id": "when", "title": "Invoice date", "type": "date", "settings": {}},
        ],
        groups=[{"id": "topics", "title": "Incoming"}],
    )


def test_route_form_offers_only_the_boards_compatible_columns_per_role(route):
    _board(route.monday_connection)
    form = RouteColumnsForm(instance=route)
    assert form.fields[role_field_name(ColumnRole.DATE)].choices[1:] == [("when", "Invoice date")]
    assert form.fields[role_field_name(ColumnRole.AMOUNT)].choices[1:] == [("amount", "Amount")]
    assert ("cost_center", "Cost center") in form.fields[
        role_field_name(ColumnRole.COST_CENTER)
    ].choices
    assert ("amount", "Amount") not in form.fields[role_field_name(ColumnRole.EXACT_KEY)].choices


def test_route_form_refuses_a_free_text_column_id_and_saves_chosen_roles(route):
    _board(route.monday_connection)
    base = RouteColumnsForm(instance=route).initial
    data = {k: v for k, v in base.items() if v is not None and k != "divisions"}
    data.update(
        exact_connection=route.exact_connection_id,
        monday_connection=route.monday_connection_id,
        divisions=[d.pk for d in route.divisions.all()],
        division_groups="{}",
    )
    bad = RouteColumnsForm(
        {
            **data,
            role_field_name(ColumnRole.AMOUNT): "typed_id",
            role_field_name(ColumnRole.EXACT_KEY): "exact_key",
        },
        instance=route,
    )
    assert not bad.is_valid() and role_field_name(ColumnRole.AMOUNT) in bad.errors
    good = RouteColumnsForm(
        {
            **data,
            role_field_name(ColumnRole.AMOUNT): "amount",
            role_field_name(ColumnRole.EXACT_KEY): "exact_key",
        },
        instance=route,
    )
    assert good.is_valid(), good.errors
    saved = good.save()
    assert saved.columns == {"amount": "amount", "exact_key": "exact_key"}


def test_admin_test_connection_action_reports_the_user_and_account(
    admin_client, mocked_http, monday_connection
):
    mocked_http.post(API, json=ME)
    response = admin_client.post(
        "/admin/integrations/mondayconnection/",
        {"action": "test_connection", "_selected_action": [monday_connection.pk]},
        follow=True,
    )
    assert "Acme Monday: Connected as Anna Admin (Acme BV)." in response.content.decode()


def test_a_cached_board_shows_its_columns_read_only(admin_client, monday_connection):
    board = _board(monday_connection)
    page = admin_client.get(f"/admin/integrations/mondayboard/{board.pk}/change/").content.decode()
    assert "<code>cost_center</code> Cost center <i>(dropdown)</i>" in page
    assert 'name="_save"' not in page
