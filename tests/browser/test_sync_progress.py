"""A 1,000-invoice first backfill watched in chromium: "Sync now" on the route page, progress
that updates itself on the route page and the admin home, 100% and a done message at the end.

The worker is this test's thread (tasks.poll_route, as the qcluster runs it); between batches
it waits until both pages have shown the new count, which they fetch on their own timer.
The pages' clocks are Playwright's (`tick`): on SQLite the live server shares this thread's
database connection, so the pages may only ask while the worker waits, never in the middle of
its writes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from integrations import tasks
from integrations.models import SyncRun
from integrations.sync import polling, runs
from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

INVOICES = 1000


@pytest.fixture
def backfill_route(sandbox_stack):
    stack = sandbox_stack.connect(divisions=((101, "Amsterdam"),))
    stack.add_reference_data()
    route = stack.route(name="Sales invoices Amsterdam")
    stack.map(route, "gl_account", "8000", "8000 Revenue")
    stack.map(route, "gl_account", "8100", "8100 Services")
    stack.map(route, "cost_center", "KP-100", "KP-100")
    stack.exact.webhooks_enabled = False
    stack.exact.bulk_add_sales_invoices(101, INVOICES, lines_per_invoice=3)
    return stack, route


def tick(*pages) -> None:
    """Let each page's own 2-second refresh timer fire once."""
    for page in pages:
        page.clock.run_for(2100)


def _open(open_page, user, url):
    page = open_page(user)
    page.clock.install()
    page.goto(url)
    return page


def _percent(panel) -> int:
    return int(panel.locator(".sync-percent").first.inner_text().rstrip("%"))


def test_a_1000_invoice_backfill_shows_progress_to_100_percent_and_done(
    open_page, staff_user, live_server, backfill_route, monkeypatch
):
    stack, route = backfill_route
    ARTIFACTS.mkdir(exist_ok=True)
    route_page = _open(
        open_page, staff_user, f"{live_server.url}/admin/integrations/route/{route.pk}/change/"
    )
    panel = route_page.locator("#sync-progress-route")
    expect(panel).to_contain_text("No sync has run from this page yet.")
    panel.get_by_role("button", name="Sync now").click()
    expect(panel).to_contain_text(
        "Waiting for a worker to start reading the sales invoices from Exact Online."
    )
    run = SyncRun.objects.get(route=route)
    assert run.requested_by == staff_user

    home = _open(open_page, staff_user, f"{live_server.url}/admin/")
    home_panel = home.locator("#sync-progress-home")
    expect(home_panel).to_be_visible()
    expect(home_panel).to_contain_text("Sales invoices Amsterdam")

    seen: list[int] = []
    real_record_batch = runs.record_batch

    def record_batch(r, page, outcome):
        stop = real_record_batch(r, page, outcome)
        counted = SyncRun.objects.get(pk=r.pk)
        read = counted.read
        if counted.batches in (3, 6):
            tick(route_page, home)
            text = f"{read:,} of 1,000 sales invoices read, {read:,} on the board"
            expect(panel).to_contain_text(text)
            expect(home_panel).to_contain_text(text)
            expect(panel).to_contain_text(
                re.compile(r"(about \d+ minutes?|less than a minute) left")
            )
            seen.append(_percent(panel))
            assert _percent(home_panel) == seen[-1]
            route_page.screenshot(
                path=str(ARTIFACTS / f"sync-progress-route-{counted.batches}.png"), full_page=True
            )
            home_panel.screenshot(path=str(ARTIFACTS / f"sync-progress-home-{counted.batches}.png"))
            panel.screenshot(
                path=str(ARTIFACTS / f"sync-progress-route-panel-{counted.batches}.png")
            )
            assert panel.get_by_role("button", name="Pause").is_visible()
        return stop

    monkeypatch.setattr(runs, "record_batch", record_batch)
    # The worker takes the queued job, and the next one while the run goes on in slices
    # shorter than the job timeout (polling.SLICE_OF_TIMEOUT; Monday's budget waits count).
    for _ in range(10):
        tasks.poll_route(route.pk)
        if SyncRun.objects.get(pk=run.pk).state == SyncRun.State.DONE:
            break

    tick(route_page, home)
    expect(panel.locator(".sync-percent")).to_have_text("100%")
    expect(panel).to_contain_text(re.compile(r"Done at \d\d:\d\d [A-Z]+ \(took "))
    expect(panel).to_contain_text("1,000 sales invoices read, 1,000 on the board")
    expect(home_panel.locator(".sync-percent")).to_have_text("100%")
    expect(home_panel).to_contain_text("Done at")
    batch = polling.WRITE_BATCH
    # It moved on its own, in step with the batches.
    assert seen == [3 * batch * 100 // INVOICES, 6 * batch * 100 // INVOICES]
    assert panel.get_by_role("button", name="Sync now").is_visible()  # ready for the next
    route_page.screenshot(path=str(ARTIFACTS / "sync-progress-route-done.png"), full_page=True)
    panel.screenshot(path=str(ARTIFACTS / "sync-progress-route-panel-done.png"))
    flagged = SyncRun.objects.get(pk=run.pk).flagged
    expect(
        panel.get_by_role("link", name=re.compile(r"Review the [\d,]+ sales invoices? flagged"))
    ).to_have_text(f"Review the {flagged:,} sales invoices flagged for review")
    home.screenshot(path=str(ARTIFACTS / "sync-progress-home-done.png"), full_page=True)
    assert len(stack.items()) == INVOICES


def test_pause_and_resume_from_the_route_page(
    open_page, staff_user, live_server, sandbox_stack, monkeypatch
):
    stack = sandbox_stack.connect(divisions=((101, "Amsterdam"),))
    stack.add_reference_data()
    route = stack.route(name="Sales invoices Amsterdam")
    for code, value in (("8000", "8000 Revenue"), ("8100", "8100 Services")):
        stack.map(route, "gl_account", code, value)
    for code in ("KP-100", "KP-200"):
        stack.map(route, "cost_center", code, code)
    stack.exact.webhooks_enabled = False
    stack.exact.bulk_add_sales_invoices(101, 300, lines_per_invoice=3)
    ARTIFACTS.mkdir(exist_ok=True)
    page = _open(
        open_page, staff_user, f"{live_server.url}/admin/integrations/route/{route.pk}/change/"
    )
    panel = page.locator("#sync-progress-route")
    panel.get_by_role("button", name="Sync now").click()
    expect(panel).to_contain_text("Waiting for a worker")
    real_record_batch = runs.record_batch

    def record_batch(r, batch, outcome):
        if SyncRun.objects.get(pk=r.pk).batches == 0:  # a person presses Pause mid-batch
            tick(page)
            expect(panel).to_contain_text("Reading the sales invoices from Exact Online")
            panel.get_by_role("button", name="Pause").click()
            expect(panel).to_contain_text("Pausing after the current batch")
        return real_record_batch(r, batch, outcome)

    monkeypatch.setattr(runs, "record_batch", record_batch)
    tasks.poll_route(route.pk)
    tick(page)
    batch = polling.WRITE_BATCH
    expect(panel).to_contain_text(
        f"Paused: {batch} of 300 sales invoices read, {batch} on the board. Resume to continue "
        "where it stopped; nothing is lost."
    )
    panel.screenshot(path=str(ARTIFACTS / "sync-progress-route-panel-paused.png"))
    assert len(stack.items()) == batch
    assert tasks.poll_route(route.pk) == {"skipped": "paused"}  # the schedule waits too

    panel.get_by_role("button", name="Resume").click()
    expect(panel).to_contain_text("Waiting for a worker")
    tasks.poll_route(route.pk)
    tick(page)
    expect(panel).to_contain_text("300 sales invoices read, 300 on the board.")
    expect(panel.locator(".sync-percent")).to_have_text("100%")
    assert len({i["texts"]["exact_key"] for i in stack.items()}) == 300
