"""Route setup in the admin, in one pass: picking the board loads its columns into the role
pickers (the page's script asks a staff-only JSON endpoint), one save stores the route."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from integrations.models import Route
from integrations.sandbox.monday_fixtures import FINANCE_ROLES
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def _options(page, role: str) -> list[str]:
    return page.locator(f"#id_column_{role} option").evaluate_all("els => els.map(e => e.value)")


def test_picking_the_board_fills_the_roles_and_one_save_stores_the_route(
    page, live_server, sandbox_stack
):
    sandbox_stack.connect()  # Exact + Monday connected, boards refreshed into the cache
    page.goto(f"{live_server.url}/admin/integrations/route/add/")
    expect(page.locator("#content h1, #content h2").first).not_to_contain_text("Monday ")
    page.fill("#id_name", "Sales invoices")
    page.select_option("#id_entity", value="sales_invoice")
    page.select_option("#id_exact_connection", index=1)
    page.click("#id_divisions_add_all")
    page.select_option("#id_monday_connection", index=1)
    # Before the board is known, the role fields offer nothing to pick.
    assert _options(page, "amount") == [""]
    # The board is offered by its name, not its id.
    board_label = page.locator(f"#id_board_id option[value='{sandbox_stack.board_id}']")
    expect(board_label).to_have_text("Finance — invoices (Sandbox Monday)")
    page.select_option("#id_board_id", value=sandbox_stack.board_id)

    # No save yet: the script loaded the board's columns, each role pre-chosen from its title.
    expect(page.locator("#id_column_exact_key")).to_have_value("exact_key")
    expect(page.locator("#board-setup-note")).to_contain_text("loaded below")
    assert _options(page, "amount") == ["", "amount"]
    assert "invoice_date" in _options(page, "date") and "due_date" in _options(page, "date")
    assert "amount" not in _options(page, "exact_key")
    assert _options(page, "review_flag")[1:] == ["status", "review", "approved"]
    assert page.input_value("#id_column_review_flag") == "review"
    assert page.input_value("#id_column_status") == "status"
    group_titles = page.locator("#id_group_id option").all_inner_texts()
    assert {"Incoming", "Needs review", "Done"} <= set(group_titles)
    # Division groups: a picker of the board's groups per division, not a JSON box.
    expect(page.locator("textarea[name=division_groups]")).to_have_count(0)
    rotterdam = page.locator("select[name=division_groups_102]")
    expect(rotterdam.locator("option")).to_have_text(
        ["— the route's group —", "Incoming", "Needs review", "Done"]
    )
    expect(page.locator("label[for=id_division_groups_102]")).to_have_text("Rotterdam (102)")

    for role, column in FINANCE_ROLES.items():
        page.select_option(f"#id_column_{role}", value=column)
    page.select_option("#id_group_id", label="Incoming")
    rotterdam.select_option(label="Done")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "route-add-board-picked.png"), full_page=True)
    page.click("input[name=_continue]")  # once

    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")
    expect(page.locator(".errornote, .errorlist")).to_have_count(0)
    route = Route.objects.get()
    assert FINANCE_ROLES.items() <= route.columns.items()
    assert route.columns["status"] == "status" and route.columns["exact_link"] == "exact_link"
    assert route.board_id == sandbox_stack.board_id and route.group_id == "topics"
    assert route.division_groups == {"102": "group_done"}
    assert route.divisions.count() == 2
    # Reopened, the change page shows what was stored.
    expect(page.locator("#id_column_amount")).to_have_value("amount")
    expect(page.locator("select[name=division_groups_102]")).to_have_value("group_done")
    page.screenshot(path=str(ARTIFACTS / "route-change.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/integrations/route/")
    row = page.locator("#result_list tbody tr").first
    expect(row).to_contain_text("Finance")
    expect(row).not_to_contain_text(sandbox_stack.board_id)


def test_without_the_script_one_save_takes_the_columns_the_titles_suggest(
    open_page, live_server, sandbox_stack, staff_user, browser
):
    sandbox_stack.connect()
    context = browser.new_context(java_script_enabled=False)
    from tests.browser.conftest import _session_cookie

    context.add_cookies([_session_cookie(staff_user, live_server)])
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/admin/integrations/route/add/")
        page.fill("#id_name", "Sales invoices")
        page.select_option("#id_entity", value="sales_invoice")
        page.select_option("#id_exact_connection", index=1)
        page.select_option("#id_divisions", index=0)
        page.select_option("#id_monday_connection", index=1)
        page.select_option("#id_board_id", value=sandbox_stack.board_id)
        page.click("input[name=_continue]")
        expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")
        route = Route.objects.get()
        assert route.columns["exact_key"] == "exact_key"
        assert route.columns["date"] == "invoice_date"
        expect(page.locator("#id_column_exact_key")).to_have_value("exact_key")
    finally:
        context.close()


def test_the_board_setup_endpoint_is_for_route_editors_only(
    open_page, live_server, sandbox_stack, db
):
    sandbox_stack.connect()
    url = f"{live_server.url}/admin/integrations/route/board-setup/?board={sandbox_stack.board_id}"
    viewer = get_user_model().objects.create_user("viewer", password="pw-viewer-1", is_staff=True)
    assert open_page(viewer).goto(url).status == 403
    anonymous = open_page(None)
    anonymous.goto(url)
    assert "/login/" in anonymous.url
    answer = open_page(sandbox_stack.user).goto(url)
    data = answer.json()
    assert answer.status == 200
    assert data["roles"]["exact_key"]["suggested"] == "exact_key"
    assert ["topics", "Incoming"] in data["groups"]
