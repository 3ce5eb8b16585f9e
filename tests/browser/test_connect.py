"""Connecting both systems in the admin, as a person does it: Exact through the sandbox's OAuth
consent page, Monday by pasting the sandbox's personal API token."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from integrations.models import ConnectionStatus, ExactConnection, MondayConnection
from tests.stack import MONDAY_TOKEN

pytestmark = pytest.mark.browser


def test_exact_connect_through_the_sandbox_consent_page_then_pick_divisions(
    page, live_server, sandbox_stack
):
    sandbox_stack.exact.add_division(101, "Amsterdam")
    sandbox_stack.exact.add_division(102, "Rotterdam")
    sandbox_stack.exact.add_division(103, "Utrecht")

    page.goto(f"{live_server.url}/admin/integrations/exactconnection/")
    page.click("#exact-connect")

    # On the Exact Online (sandbox) consent page, not on our site.
    expect(page).to_have_title("Exact Online sandbox - authorize")
    url = urlsplit(page.url)
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{sandbox_stack.url}/exact/api/oauth2/auth"
    query = parse_qs(url.query)
    assert query["redirect_uri"] == [f"{live_server.url}/integrations/exact/callback/"]
    assert query["client_id"] == ["sandbox-client"] and len(query["state"][0]) >= 32
    page.click("#approve")

    # Back on our connection page with the divisions listed, none selected yet.
    expect(page.locator("ul.messagelist")).to_contain_text("Connected to Exact Online as")
    conn = ExactConnection.objects.get()
    assert page.url == f"{live_server.url}/admin/integrations/exactconnection/{conn.pk}/change/"
    assert conn.status == ConnectionStatus.CONNECTED
    assert not conn.divisions.filter(selected=True).exists()
    rows = page.locator("#divisions-group tbody tr.form-row")
    expect(rows).to_have_count(3)

    for code in ("Amsterdam", "Utrecht"):
        rows.filter(has_text=code).locator("input[name$='-selected']").check()
    page.click("input[name=_continue]")

    expect(page.locator("ul.messagelist")).to_contain_text("was changed successfully")
    assert set(conn.divisions.filter(selected=True).values_list("code", flat=True)) == {101, 103}
    # The tokens never reach the page.
    conn.refresh_from_db()
    html = page.content()
    assert conn.access_token and conn.access_token not in html
    assert conn.refresh_token not in html


def test_monday_token_connect_shows_the_user_and_account(page, live_server, sandbox_stack):
    sandbox_stack.monday.add_token(
        "browser-token-123", user_name="Fleur Finance", account_name="Bouwgroep Finance"
    )
    page.goto(f"{live_server.url}/admin/integrations/mondayconnection/add/")
    page.fill("#id_name", "Finance Monday")
    page.fill("#id_token", "browser-token-123")
    page.click("input[name=_save]")

    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")
    row = page.locator("#result_list tbody tr", has_text="Finance Monday")
    expect(row).to_contain_text("Fleur Finance")
    expect(row).to_contain_text("Bouwgroep Finance")
    expect(row).to_contain_text("Connected")
    conn = MondayConnection.objects.get()
    assert conn.status == ConnectionStatus.CONNECTED
    assert conn.api_url == f"{sandbox_stack.url}/monday/v2"
    assert "browser-token-123" not in page.content()


def test_a_refused_monday_token_saves_nothing_and_says_why(page, live_server, sandbox_stack):
    page.goto(f"{live_server.url}/admin/integrations/mondayconnection/add/")
    page.fill("#id_name", "Finance Monday")
    page.fill("#id_token", MONDAY_TOKEN + "-wrong")
    page.click("input[name=_save]")

    expect(page.locator(".errornote")).to_be_visible()
    assert not MondayConnection.objects.exists()
    assert MONDAY_TOKEN + "-wrong" not in page.content()
