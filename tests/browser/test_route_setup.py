"""Route setup in the admin: the form offers the cached board's real, compatible columns."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from integrations.models import Route
from integrations.sandbox.monday_fixtures import FINANCE_ROLES

pytestmark = pytest.mark.browser


def _options(page, role: str) -> list[str]:
    return page.locator(f"#id_column_{role} option").evaluate_all("els => els.map(e => e.value)")


def test_route_add_form_offers_the_boards_columns_and_stores_the_chosen_ids(
    page, live_server, sandbox_stack
):
    sandbox_stack.connect()  # Exact + Monday connected, boards refreshed into the cache
    page.goto(f"{live_server.url}/admin/integrations/route/add/")
    page.fill("#id_name", "Sales invoices")
    page.select_option("#id_entity", value="sales_invoice")
    page.select_option("#id_exact_connection", index=1)
    page.click("#id_divisions_add_all")
    page.select_option("#id_monday_connection", index=1)
    page.select_option("#id_board_id", value=sandbox_stack.board_id)
    # Before the board is known, the role fields are shown but offer nothing to type or pick.
    assert _options(page, "amount") == [""]
    page.click("input[name=_continue]")

    # The board is known now: every role offers that board's columns of a fitting type only.
    expect(page.locator("#id_column_exact_key")).to_be_visible()
    expect(page.locator(".errorlist")).to_contain_text("pre-filled from their titles")
    assert page.input_value("#id_column_exact_key") == "exact_key"  # suggested from the title
    assert Route.objects.count() == 0  # nothing saved without the Exact key column
    assert _options(page, "amount") == ["", "amount"]
    assert "invoice_date" in _options(page, "date") and "due_date" in _options(page, "date")
    assert "amount" not in _options(page, "exact_key")
    assert "exact_key" in _options(page, "exact_key")
    assert _options(page, "review_flag")[1:] == ["status", "review", "approved"]
    group_titles = page.locator("#id_group_id option").all_inner_texts()
    assert {"Incoming", "Needs review", "Done"} <= set(group_titles)

    chosen = dict(FINANCE_ROLES)
    for role, column in chosen.items():
        page.select_option(f"#id_column_{role}", value=column)
    page.select_option("#id_group_id", label="Incoming")
    page.click("input[name=_save]")

    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")
    route = Route.objects.get()
    assert chosen.items() <= route.columns.items()  # plus the roles pre-filled from titles
    assert route.columns["status"] == "status" and route.columns["exact_link"] == "exact_link"
    assert route.board_id == sandbox_stack.board_id and route.group_id == "topics"
    assert route.divisions.count() == 2
