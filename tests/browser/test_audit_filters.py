"""The audit trail's filters in the browser: one document by its Exact number, a route, kinds
of record and divisions in words."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

import audit
from tests.browser.conftest import ARTIFACTS
from tests.factories import make_route, make_synced_record

pytestmark = pytest.mark.browser


def test_the_audit_trail_narrows_to_one_document_and_to_one_route(page, live_server, route):
    orders = make_route(route.exact_connection, route.monday_connection, name="Purchase orders")
    mine = make_synced_record(route, key="7e3b1c2a-0000-4000-8000-000000000042", number="20260042")
    other = make_synced_record(orders, key="k-other", number="20260099")
    audit.record("item.created", obj=mine, division=101, actor="webhook")
    audit.record(
        "item.flagged",
        obj=mine,
        division=101,
        actor="webhook",
        message="Cost center KP-200 has no mapping for the Cost center column",
    )
    audit.record("item.created", obj=other, division=101, actor="poll")
    audit.record("route.changed", obj=orders, message="Poll interval 15 → 5 minutes")
    audit.record("retention.purged", actor="retention", after={"webhook_events": 3})
    page.goto(f"{live_server.url}/admin/audit/auditevent/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(5)
    sidebar = page.locator("#changelist-filter")
    expect(sidebar).to_contain_text("By kind of record")
    expect(sidebar.get_by_role("link", name="Sales invoice item")).to_be_visible()
    expect(sidebar.get_by_role("link", name="101 Division 101")).to_be_visible()
    assert "integrations." not in " ".join(sidebar.get_by_role("link").all_inner_texts())

    sidebar.get_by_label("Exact number or key").fill("20260042")
    sidebar.get_by_label("Exact number or key").press("Enter")
    expect(rows).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("Flagged the item for review")
    expect(sidebar.get_by_label("Exact number or key")).to_have_value("20260042")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "audit-filter-document.png"), full_page=True)

    sidebar.get_by_role("link", name="Clear all filters").click()
    expect(rows).to_have_count(5)
    sidebar.get_by_role("link", name="Purchase orders").click()
    expect(rows).to_have_count(2)
    expect(page.locator("#result_list")).to_contain_text("Changed a route")
    expect(page.locator("#result_list")).not_to_contain_text("Flagged the item")
    page.screenshot(path=str(ARTIFACTS / "audit-filter-route.png"), full_page=True)
