"""Playwright driving Debian's chromium against pytest-django's live server and the sandboxes.

One browser for the session, one context (fresh cookies) per test. The app runs in
`live_server` (transactional database); the Exact and Monday sandboxes are served on one local
port, and the settings point the app at them. A failing test leaves a full-page screenshot in
test-artifacts/.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.stack import WEBHOOK_SECRET, Stack

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
# browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
TIMEOUT_MS = 10_000


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so the page fixture knows the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (or `make browser`).")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def sandbox_stack(staff_user, live_server):
    """Both sandboxes on one port (Exact delivers webhooks over HTTP to the live server), and
    the settings the app would have in sandbox mode pointing at them."""
    stack = Stack(staff_user)
    try:
        with override_settings(
            SANDBOX_URL=stack.url,
            PUBLIC_BASE_URL=live_server.url,
            EXACT_CLIENT_ID="sandbox-client",
            EXACT_CLIENT_SECRET="sandbox-secret",
            EXACT_WEBHOOK_SECRET=WEBHOOK_SECRET,
            INTEGRATIONS_MODE="sandbox",
        ):
            yield stack
    finally:
        stack.close()


def _session_cookie(user, live_server) -> dict:
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }


@pytest.fixture
def open_page(browser, live_server, request):
    """open_page(user) -> a Playwright page logged in as `user` (session cookie, no form)."""
    contexts = []

    def open_as(user=None):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        if user is not None:
            context.add_cookies([_session_cookie(user, live_server)])
        contexts.append(context)
        return context.new_page()

    yield open_as
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for n, context in enumerate(contexts):
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.nodeid.split("::")[-1])
            for m, page in enumerate(context.pages):
                page.screenshot(path=str(ARTIFACTS / f"{name}-{n}-{m}.png"), full_page=True)
        context.close()


@pytest.fixture
def page(open_page, staff_user):
    """A page logged in as the superuser."""
    return open_page(staff_user)
