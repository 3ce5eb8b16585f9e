"""The README's sandbox demo, walked in chromium against the Demo app (the seeded company that
`manage.py run_sandbox` serves): nothing to an invoice on the board, then the history synced and
a flagged item fixed from the review queue."""

from __future__ import annotations

from pydoc import locate

import pytest
from django.test import override_settings
from django_q.models import OrmQ

from integrations.models import SyncedRecord, WebhookEvent
from integrations.sandbox.demo import Demo
from integrations.sandbox.exact import ExactSandbox
from integrations.sandbox.server import serve
from integrations.sync import inbox
from tests.browser.walk_demo import walk

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(live_server):
    demo = Demo(
        exact=ExactSandbox(webhook_secret="demo-webhook-secret"),
        admin_url=f"{live_server.url}/admin/",
    )
    server, url = serve(demo)
    try:
        with override_settings(
            SANDBOX_URL=url,
            PUBLIC_BASE_URL=live_server.url,
            EXACT_CLIENT_ID="sandbox-client",
            EXACT_CLIENT_SECRET="sandbox-secret",
            EXACT_WEBHOOK_SECRET="demo-webhook-secret",
            INTEGRATIONS_MODE="sandbox",
        ):
            yield demo, url
    finally:
        server.shutdown()
        server.server_close()


def run_due_jobs() -> None:
    """What the qcluster does: the queued jobs ("Sync now" polls) and the due webhook events."""
    for queued in OrmQ.objects.all():
        task = queued.task
        locate(task["func"])(*task.get("args", ()), **task.get("kwargs", {}))
        queued.delete()
    for event in WebhookEvent.objects.due():
        inbox.process_webhook_event(event)


def test_newcomer_reaches_an_invoice_on_the_board_and_fixes_a_flagged_item(page, live_server, demo):
    demo_app, url = demo
    walked = walk(
        page, app=live_server.url, sandbox=url, step=lambda text: None, process_jobs=run_due_jobs
    )

    # The invoice came by webhook (signed, over HTTP from the sandbox to our endpoint).
    delivery = demo_app.exact.webhook_deliveries[-1]
    assert delivery["status"] == 200 and delivery["url"] == f"{live_server.url}/webhooks/exact/"
    (amsterdam, _), (rotterdam, _), _utrecht = demo_app.divisions()
    record = SyncedRecord.objects.get(exact_number=walked["number"], division=amsterdam)
    assert record.first_seen_via == SyncedRecord.Via.WEBHOOK
    items = {i["id"]: i for i in demo_app.monday.items(demo_app.board_id)}
    item = items[record.monday_item_id]
    assert item["texts"]["exact_number"] == walked["number"]
    assert item["texts"]["review"] == "OK" and item["texts"]["cost_center"]

    # A working company's review queue: 5-10% flagged, each case for its own reason.
    records = SyncedRecord.objects.all()
    assert records.count() == walked["total"] == 193
    assert 0.05 <= walked["flagged"] / walked["total"] <= 0.10
    flagged = records.filter(state=SyncedRecord.State.FLAGGED)
    assert flagged.count() == walked["flagged"] - 1  # one was fixed in the last step
    reasons = {r for rec in flagged for r in rec.review_reasons}
    assert {r.split(" has no mapping")[0] for r in reasons} == {
        "GL account 8090 Omzet oud (geblokkeerd)",  # a blocked revenue account
        "Cost center P100 Project Amsterdam (afgesloten)",  # a closed project
        "Cost center P206 Project Rotterdam 6 (Kralingen)",  # a new project, named differently
    }
    # Nothing flagged for a status: the board has a label for every state Exact sends.
    assert not [r for r in reasons if "Status" in r]

    fixed = SyncedRecord.objects.get(exact_number=walked["fixed"], division=rotterdam)
    assert fixed.state == SyncedRecord.State.SYNCED and not fixed.review_reasons
    items = {i["id"]: i for i in demo_app.monday.items(demo_app.board_id)}
    fixed_item = items[fixed.monday_item_id]
    assert fixed_item["texts"]["cost_center"] == "Kralingen (P206)"
    assert fixed_item["texts"]["review"] == "OK"
