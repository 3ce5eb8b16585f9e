"""Every screen a finance reviewer and an admin use, with data on it, photographed into
test-artifacts/screen-*.png (to be looked at), and checked for what a finance team should never
see there: ids where names belong, unformatted money, "Monday" without ".com", error boxes."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from integrations.models import ExactConnection, MondayConnection, Route, SyncedRecord
from integrations.sync import subscriptions
from mappings.roles import ensure_finance_reviewer_group
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

# "Monday" followed by anything but ".com": the brand is spelled "Monday.com" on every screen.
BARE_MONDAY = re.compile(r"(?<!Sandbox )\bMonday(?!\.com)\b")  # "Sandbox Monday": a name
# An amount with a dot and one decimal, or four or more digits before the dot: unformatted.
RAW_MONEY = re.compile(r"(?<![\d.,])(?:\d+\.\d|\d{4,}\.\d{2})(?![\d.])")


@pytest.fixture
def company(sandbox_stack):
    """A connected route with a few invoices on the board, one of them flagged."""
    s = sandbox_stack.connect()
    s.add_reference_data()
    route = s.route(name="Sales invoices")
    s.map(route, "gl_account", "8000", "8000 Revenue")
    s.map(route, "cost_center", "KP-100", "KP-100")
    subscriptions.register_subscriptions()
    s.exact.webhooks_enabled = True
    s.invoice(amounts=(1250.5, 99.99))
    s.invoice(amounts=(6425.1,))
    s.invoice(cc="KP-200", amounts=(640.0,))
    assert s.drain() == ["done", "done", "done"]
    assert SyncedRecord.objects.filter(state=SyncedRecord.State.FLAGGED).count() == 1
    return s


@pytest.fixture
def reviewer(db):
    user = get_user_model().objects.create_user(
        "fleur", "fleur@example.test", "pw-fleur-123", is_staff=True, first_name="Fleur"
    )
    user.groups.add(ensure_finance_reviewer_group())
    return user


def _photograph(page, url: str, name: str) -> str:
    response = page.goto(url)
    assert response.status == 200, url
    expect(page.locator("#content")).not_to_contain_text("Please correct")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"screen-{name}.png"), full_page=True)
    return page.locator("#content").inner_text()


def test_every_admin_screen_in_a_finance_teams_words(page, live_server, company):
    base = f"{live_server.url}/admin"
    route = Route.objects.get()
    exact = ExactConnection.objects.get()
    monday = MondayConnection.objects.get()
    screens = {
        "admin-home": f"{base}/",
        "exact-connections": f"{base}/integrations/exactconnection/",
        "exact-connection-change": f"{base}/integrations/exactconnection/{exact.pk}/change/",
        "monday-connections": f"{base}/integrations/mondayconnection/",
        "monday-connection-change": f"{base}/integrations/mondayconnection/{monday.pk}/change/",
        "monday-boards": f"{base}/integrations/mondayboard/",
        "routes": f"{base}/integrations/route/",
        "route-add": f"{base}/integrations/route/add/",
        "route-change": f"{base}/integrations/route/{route.pk}/change/",
        "gl-accounts": f"{base}/mappings/glaccount/",
        "cost-centers": f"{base}/mappings/costcenter/",
        "review-queue": f"{base}/integrations/syncedrecord/review/",
        "synced-records": f"{base}/integrations/syncedrecord/",
        "audit-trail": f"{base}/audit/auditevent/",
    }
    texts = {name: _photograph(page, url, name) for name, url in screens.items()}

    for name, text in texts.items():
        assert not BARE_MONDAY.findall(text), (name, BARE_MONDAY.findall(text))
        assert not RAW_MONEY.findall(text), (name, RAW_MONEY.findall(text))
    # Names where ids would be: the board on the route list, the route on the review queue.
    assert "Finance — invoices" in texts["routes"] and company.board_id not in texts["routes"]
    assert "EUR 774.40" in texts["review-queue"]  # 640.00 plus 21% VAT, as money
    assert "Acme Retail BV" in texts["review-queue"]


def test_every_reviewer_screen_in_a_finance_teams_words(open_page, live_server, company, reviewer):
    page = open_page(reviewer)
    base = f"{live_server.url}/admin"
    route = Route.objects.get()
    screens = {
        "reviewer-home": f"{base}/",
        "reviewer-review-queue": f"{base}/integrations/syncedrecord/review/",
        "reviewer-gl-accounts": f"{base}/mappings/glaccount/",
        "reviewer-cost-centers": f"{base}/mappings/costcenter/",
        "reviewer-route": f"{base}/integrations/route/{route.pk}/change/",
        "reviewer-audit-trail": f"{base}/audit/auditevent/",
    }
    for name, url in screens.items():
        text = _photograph(page, url, name)
        assert not BARE_MONDAY.findall(text), (name, BARE_MONDAY.findall(text))
        assert not RAW_MONEY.findall(text), (name, RAW_MONEY.findall(text))
