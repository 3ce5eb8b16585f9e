"""A finance reviewer's admin in the browser: a home with only the review queue, the mappings
and the audit trail; the review queue's date filters; My alerts."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from integrations.models import AlertPreferences
from mappings.roles import ensure_finance_reviewer_group
from tests.browser.conftest import ARTIFACTS
from tests.factories import make_synced_record

pytestmark = pytest.mark.browser


@pytest.fixture
def reviewer(db):
    user = get_user_model().objects.create_user(
        "fleur", "fleur@example.test", "pw-fleur-123", is_staff=True, first_name="Fleur"
    )
    user.groups.add(ensure_finance_reviewer_group())
    return user


def test_a_reviewers_home_holds_only_review_mappings_and_audit(
    open_page, live_server, reviewer, route
):
    page = open_page(reviewer)
    page.goto(f"{live_server.url}/admin/")
    pages = page.locator("#content-main th[scope=row]").all_inner_texts()
    assert sorted(pages) == [
        "Audit events",
        "Cost centers",
        "GL accounts",
        "Routes",
        "Synced records",
        "Value mappings",
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "reviewer-home.png"), full_page=True)
    text = page.locator("#content-main").inner_text()
    for hidden in (
        "Webhook events",
        "Poll cursors",
        "Django Q",
        "connections",
        "Scheduled tasks",
        "Users",
    ):
        assert hidden.lower() not in text.lower(), hidden
    for shown in ("GL accounts", "Cost centers", "Audit trail"):
        assert shown.lower() in text.lower(), shown
    expect(page.get_by_role("link", name="Review queue")).to_be_visible()
    expect(page.get_by_role("link", name="My alerts")).to_be_visible()


def test_the_review_queue_filters_by_flagged_date(open_page, live_server, reviewer, route):
    old = make_synced_record(route, key="k-old", number="20250001")
    old.flagged_at = timezone.now() - timezone.timedelta(days=40)
    old.snapshot = {**old.snapshot, "date": "2025-10-01"}
    old.save()
    new = make_synced_record(route, key="k-new", number="20260002")
    new.flagged_at = timezone.now()
    new.snapshot = {**new.snapshot, "date": timezone.localdate().isoformat()}
    new.save()
    page = open_page(reviewer)
    page.goto(f"{live_server.url}/admin/integrations/syncedrecord/review/")
    expect(page.locator("#flagged tbody tr")).to_have_count(2)
    page.select_option("select[name=flagged]", label="Past 7 days")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#flagged tbody tr")).to_have_count(1)
    expect(page.locator("#flagged")).to_contain_text("20260002")
    expect(page.locator("h2").first).to_have_text("Flagged items: 1 of 2")
    expect(page.locator("select[name=flagged]")).to_have_value("7d")
    page.screenshot(path=str(ARTIFACTS / "review-queue-dates.png"), full_page=True)
    page.select_option("select[name=flagged]", label="Any time")
    page.select_option("select[name=document_date]", label="This month")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#flagged tbody tr")).to_have_count(1)
    expect(page.locator("#flagged")).to_contain_text("20260002")


def test_a_reviewer_switches_the_daily_digest_off_under_my_alerts(open_page, live_server, reviewer):
    page = open_page(reviewer)
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="My alerts").click()
    expect(page.locator("#my-alerts")).to_contain_text("fleur@example.test")
    box = page.get_by_label("Daily digest of flagged items")
    expect(box).to_be_checked()
    expect(page.get_by_label("Connection problems")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "my-alerts.png"), full_page=True)
    box.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messagelist")).to_contain_text("Your alert emails are saved.")
    expect(page.get_by_label("Daily digest of flagged items")).not_to_be_checked()
    assert AlertPreferences.objects.get(user=reviewer).daily_digest is False
