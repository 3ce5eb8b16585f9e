"""Finance review in the browser: a flagged item fixed from the review queue and re-synced to
the Monday sandbox; a finance reviewer kept away from connections and their secrets."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from audit.models import AuditEvent
from integrations.models import ExactConnection, MondayConnection, SyncedRecord
from integrations.sync import subscriptions
from mappings.models import ValueMapping
from mappings.roles import ensure_finance_reviewer_group
from tests.browser.conftest import ARTIFACTS
from tests.stack import MONDAY_TOKEN

pytestmark = pytest.mark.browser


@pytest.fixture
def reviewer(db):
    user = get_user_model().objects.create_user(
        "fleur", "fleur@example.test", "pw-fleur-123", is_staff=True
    )
    user.groups.add(ensure_finance_reviewer_group())
    return user


@pytest.fixture
def flagged(sandbox_stack):
    """A synced route whose cost center KP-200 is unmapped, and one invoice flagged by it."""
    s = sandbox_stack.connect()
    s.add_reference_data()
    route = s.route()
    s.map(route, "gl_account", "8000", "8000 Revenue")
    s.map(route, "cost_center", "KP-100", "KP-100")
    subscriptions.register_subscriptions()
    s.exact.webhooks_enabled = True
    s.invoice(cc="KP-200", amounts=(640.0,))
    assert s.drain() == ["done"]
    record = SyncedRecord.objects.get()
    assert record.state == SyncedRecord.State.FLAGGED
    (item,) = s.items()
    assert item["texts"]["review"] == "Needs review" and not item["texts"].get("cost_center")
    return record


def test_reviewer_maps_the_missing_cost_center_and_resyncs_from_the_review_queue(
    open_page, live_server, sandbox_stack, flagged, reviewer
):
    page = open_page(reviewer)
    page.goto(f"{live_server.url}/admin/integrations/syncedrecord/review/")
    row = page.locator(f"#flagged tr[data-record='{flagged.pk}']")
    expect(row).to_contain_text(flagged.exact_number)
    expect(row).to_contain_text("Acme Retail BV")  # the customer
    expect(row).to_contain_text("Amsterdam")  # the division's name
    expect(row).to_contain_text("EUR 774.40")  # 640.00 plus 21% VAT
    expect(row).to_contain_text("KP-200")
    # The board's labels to choose from: no code is typed.
    choice = row.locator("select[name=cost_center_value]")
    expect(choice.locator("option")).to_have_text(["Choose a label…", "KP-100", "KP-200"])
    choice.select_option("KP-200")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-queue-choose-value.png"), full_page=True)
    row.locator("input[type=submit][value='Map and re-sync']").click()

    expect(page.locator("ul.messagelist")).to_contain_text("Re-synced 1 item: 1 cleared.")
    expect(page.locator("#flagged")).to_contain_text("Nothing to review.")
    page.screenshot(path=str(ARTIFACTS / "review-queue-fixed.png"), full_page=True)
    (item,) = sandbox_stack.items()
    assert item["id"] == flagged.monday_item_id  # the same item, updated
    assert item["texts"]["cost_center"] == "KP-200"
    assert item["texts"]["review"] == "OK"
    flagged.refresh_from_db()
    assert flagged.state == SyncedRecord.State.SYNCED and not flagged.review_reasons
    mapping = ValueMapping.objects.get(kind="cost_center", code="KP-200")
    assert mapping.monday_value == "KP-200" and mapping.updated_by == reviewer
    assert AuditEvent.objects.filter(action="item.updated", object_id=str(flagged.pk)).exists()


def test_finance_reviewer_cannot_open_connection_pages_nor_see_secrets(
    open_page, live_server, sandbox_stack, flagged, reviewer
):
    exact = ExactConnection.objects.get()
    monday = MondayConnection.objects.get()
    secrets = [exact.access_token, exact.refresh_token, MONDAY_TOKEN]
    assert all(secrets)
    page = open_page(reviewer)
    base = f"{live_server.url}/admin/integrations"
    for url in (
        f"{base}/exactconnection/",
        f"{base}/exactconnection/{exact.pk}/change/",
        f"{base}/mondayconnection/",
        f"{base}/mondayconnection/{monday.pk}/change/",
        f"{live_server.url}/integrations/exact/connect/",
    ):
        response = page.goto(url)
        assert response.status == 403, url
        assert not any(secret in page.content() for secret in secrets)

    # The admin's navigation offers no connection page to the reviewer.
    page.goto(f"{live_server.url}/admin/")
    expect(
        page.locator("#nav-sidebar, #content-main").locator("a[href*='connection/']")
    ).to_have_count(0)
    expect(page.locator("a", has_text="Review queue")).to_have_count(1)

    # What the reviewer may open: the index, the review queue, a route (read only), mappings.
    route = flagged.route
    for url in (
        f"{live_server.url}/admin/",
        f"{base}/syncedrecord/review/",
        f"{base}/route/{route.pk}/change/",
        f"{live_server.url}/admin/mappings/costcenter/",
    ):
        response = page.goto(url)
        assert response.status == 200, url
        html = page.content()
        assert not any(secret in html for secret in secrets), url
        if "/route/" in url:  # read only (its connection link leads to a 403, checked above)
            expect(page.locator("input[name=_save]")).to_have_count(0)
            expect(page.locator("select")).to_have_count(0)
