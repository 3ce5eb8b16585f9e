"""The audit trail in the browser: words, a person, local time with its zone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

import audit
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def test_audit_trail_reads_in_words(page, live_server, staff_user, route):
    staff_user.first_name, staff_user.last_name = "Anna", "Admin"
    staff_user.save()
    audit.record("records.resynced", actor=staff_user, message="{'synced': 2, 'flagged': 1}")
    audit.record(
        "item.unflagged",
        actor="sync",
        obj=route,
        before={"state": "flagged"},
        after={"state": "synced"},
        message="All mappings resolved.",
    )
    audit.record("mappings.reference_refreshed", actor="system", after={"gl_accounts": 12})
    page.goto(f"{live_server.url}/admin/audit/auditevent/")
    expect(page.locator("#result_list")).to_contain_text("Synced items again on request")
    expect(page.locator("#result_list")).to_contain_text("Anna Admin")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "audit-trail.png"), full_page=True)
    page.locator("#result_list a", has_text="CE").nth(1).click()
    expect(page.locator(".audit-changes")).to_contain_text("state: flagged → synced")
    page.screenshot(path=str(ARTIFACTS / "audit-event.png"), full_page=True)
