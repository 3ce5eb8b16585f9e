"""The admin home's health panel as a browser lays it out: its column headings read across, not
one letter per line (Django's dashboard CSS squeezed every heading to width 100%)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.factories import make_synced_record

pytestmark = pytest.mark.browser


def test_health_panel_headings_are_wider_than_tall(page, live_server, route):
    make_synced_record(route, key="k1")
    page.goto(f"{live_server.url}/admin/")
    panel = page.locator("#connection-health")
    panel.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    panel.screenshot(path=str(ARTIFACTS / "admin-home-health-panel.png"))
    page.screenshot(path=str(ARTIFACTS / "admin-home.png"), full_page=True)

    headings = panel.locator("thead th")
    assert headings.count() == 6
    for i in range(6):
        th = headings.nth(i)
        box = th.bounding_box()
        assert box["width"] > box["height"], (th.inner_text(), box)
    # The panel stays inside the dashboard's column instead of spilling over the app list.
    panel_box = panel.bounding_box()
    table_box = panel.locator("table.health-table").bounding_box()
    assert table_box["width"] <= panel_box["width"] + 1
