"""The product's main job end to end: Exact sandbox -> signed webhook -> job -> Monday sandbox."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from integrations.models import PollCursor, SyncedRecord, WebhookEvent
from integrations.sync import polling, subscriptions

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(stack):
    """Connected, reference data loaded, a route with mappings, webhooks subscribed."""
    stack.connect()
    stack.add_reference_data()
    route = stack.route()
    stack.map(route, "gl_account", "8000", "8000 Revenue")
    stack.map(route, "cost_center", "KP-100", "KP-100")
    stack.map(route, "cost_center", "KP-200", "KP-200")
    subscriptions.register_subscriptions()
    stack.exact.webhooks_enabled = True
    return stack


def texts(item) -> dict:
    return item["texts"]


def test_invoice_created_in_exact_becomes_one_item_with_its_values(live):
    invoice = live.invoice(amounts=(1000.25, 250.25))
    assert live.deliveries and set(live.deliveries) == {200}
    assert live.drain() == ["done"]
    (item,) = live.items()
    t = texts(item)
    assert t["exact_key"] == invoice["InvoiceID"].lower()
    assert t["invoice_date"] == "2026-11-23"
    # The document total as Exact states it (header AmountFC, VAT included).
    assert Decimal(t["amount"]) == Decimal(str(invoice["AmountFC"])).quantize(Decimal("0.01"))
    assert t["account_name"] == "Acme Retail BV"
    assert t["gl_account"] == "8000 Revenue"
    assert t["cost_center"] == "KP-100"
    assert t["review"] == "OK"
    record = SyncedRecord.objects.get()
    assert record.state == SyncedRecord.State.SYNCED and record.monday_item_id == item["id"]
    assert AuditEvent.objects.filter(action="item.created", object_id=str(record.pk)).count() == 1


def test_changing_the_invoice_updates_the_same_item(live):
    invoice = live.invoice(amounts=(100,))
    live.drain()
    live.exact.update_sales_invoice(101, invoice["InvoiceID"], Description="Changed in Exact")
    assert live.drain() == ["done"]
    (item,) = live.items()
    assert "Changed in Exact" in texts(item)["description"]
    assert AuditEvent.objects.filter(action="item.updated").count() == 1


def test_a_redelivered_webhook_writes_nothing_twice(live):
    live.invoice()
    body = WebhookEvent.objects.get().raw_body.encode()
    live.drain()
    response = live.webhook_client.post(
        "/webhooks/exact/", data=body, content_type="application/json"
    )
    assert response.json()["status"] == "duplicate"
    assert live.drain() == []
    assert len(live.items()) == 1


def test_a_bad_signature_creates_nothing(live):
    content = b'{"Topic":"SalesInvoices","Division":101,"Action":"Create","Key":"x"}'
    body = b'{"Content":' + content + b',"HashCode":"' + b"0" * 64 + b'"}'
    response = live.webhook_client.post(
        "/webhooks/exact/", data=body, content_type="application/json"
    )
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0 and live.items() == []


def test_unmapped_cost_center_lands_flagged_then_mapping_and_resync_clear_it(live):
    live.exact.add_cost_center(101, "KP-410", "Project Lighthouse")
    live.refresh_reference_data()
    live.invoice(cc="KP-410")
    live.drain()
    record = SyncedRecord.objects.get()
    assert record.state == SyncedRecord.State.FLAGGED
    assert record.review_reasons == [
        "Cost center KP-410 Project Lighthouse has no mapping for the Cost center column"
    ]
    (item,) = live.items()
    assert texts(item)["review"] == "Needs review" and texts(item).get("cost_center", "") == ""
    live.map(live.route_obj, "cost_center", "KP-410", "KP-200")
    from integrations import sync

    counts = sync.resync_records(SyncedRecord.objects.all(), correlation_id="test")
    assert counts == {"synced": 1, "flagged": 0, "failed": 0}
    record.refresh_from_db()
    assert record.state == SyncedRecord.State.SYNCED and record.review_reasons == []
    (item,) = live.items()
    assert texts(item)["review"] == "OK" and texts(item)["cost_center"] == "KP-200"
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "item.flagged" in actions and "mapping.set" in actions and "item.unflagged" in actions


def test_deleting_in_exact_marks_the_item_and_never_deletes_it(live):
    live.route_obj.columns["status"] = "status"
    live.route_obj.save()
    invoice = live.invoice()
    live.drain()
    live.exact.delete_sales_invoice(101, invoice["InvoiceID"])
    live.drain()
    (item,) = live.items()
    assert texts(item)["status"] == "Deleted in Exact"
    assert SyncedRecord.objects.get().state == SyncedRecord.State.DELETED
    assert AuditEvent.objects.filter(action="item.marked_deleted").count() == 1


def test_credit_note_shows_negative_amount_and_its_own_label(live):
    live.route_obj.columns["status"] = "status"
    live.route_obj.save()
    live.invoice(amounts=(-300,), type=8021)
    live.drain()
    (item,) = live.items()
    assert Decimal(texts(item)["amount"]) < 0
    assert texts(item)["status"] == "Credit note"


def test_polling_alone_brings_1200_invoices_across_and_a_second_poll_writes_nothing(stack):
    stack.connect(divisions=((101, "Amsterdam"),))
    stack.add_reference_data()
    route = stack.route()
    stack.map(route, "gl_account", "8000", "8000 Revenue")
    stack.map(route, "gl_account", "8100", "8100 Services")
    stack.map(route, "cost_center", "KP-100", "KP-100")
    stack.map(route, "cost_center", "KP-200", "KP-200")
    stack.exact.webhooks_enabled = False
    stack.exact.bulk_add_sales_invoices(101, 1200, lines_per_invoice=3)
    first = polling.poll_division(route, 101)
    assert first["documents"] == 1200 and first["written"] == 1200
    assert len(stack.items()) == 1200
    assert len({texts(i)["exact_key"] for i in stack.items()}) == 1200
    cursor = PollCursor.objects.get(route=route, division=101, feed="sales_invoice")
    assert cursor.timestamp == stack.exact.store.rowversion  # at the end of the feed
    requests_before = len(stack.monday.requests)
    second = polling.poll_division(route, 101)
    assert second["written"] == 0
    assert len(stack.monday.requests) == requests_before
    assert SyncedRecord.objects.count() == 1200


def test_exact_500s_then_recovery_every_event_ends_done(live):
    for _ in range(3):
        live.invoice()
    live.exact.fail_next("salesinvoice", 500, count=20)
    states = live.drain(rounds=1)
    assert states and "done" not in states
    assert WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING).count() == 3
    assert all("Exact Online" in e.last_error for e in WebhookEvent.objects.all())
    live.exact._faults.clear()  # Exact recovers
    WebhookEvent.objects.update(next_attempt_at=None)  # the retry time has come
    assert live.drain() == ["done"] * 3
    assert len(live.items()) == 3


def test_monday_rejecting_one_items_value_flags_it_and_the_others_go_through(live):
    # The cost-center column's "KP-200" label disappears from the board after it was mapped.
    column = live.monday.store.boards[live.board_id].column("cost_center")
    column["settings"]["labels"] = [{"id": 1, "name": "KP-100"}]
    live.invoice(cc="KP-100")
    live.invoice(cc="KP-200")
    states = live.drain()
    assert states == ["done", "done"], [e.last_error for e in WebhookEvent.objects.all()]
    by_cc = {r.snapshot["cost_center"]: r for r in SyncedRecord.objects.all()}
    assert by_cc["KP-100"].state == SyncedRecord.State.SYNCED
    assert by_cc["KP-200"].state == SyncedRecord.State.FLAGGED
    assert any("KP-200" in reason for reason in by_cc["KP-200"].review_reasons)
    assert len(live.items()) == 2


def test_events_wait_while_exact_needs_reauthorization_then_run(live):
    from integrations.exact.connections import mark_needs_reauth

    live.invoice()
    mark_needs_reauth(live.exact_conn, reason="test")
    assert live.drain() == ["waiting"]
    assert WebhookEvent.objects.get().state == WebhookEvent.State.WAITING
    live.exact_conn.refresh_from_db()
    live.exact_conn.status = "connected"
    live.exact_conn.save()
    from integrations.sync import job_queue

    WebhookEvent.objects.update(
        received_at=WebhookEvent.objects.get().received_at.replace(year=2020)
    )
    assert job_queue.enqueue_due_events() == 1
    assert live.drain() == ["done"]
    assert json.loads(WebhookEvent.objects.get().raw_body)["Content"]["Topic"] == "SalesInvoices"


def test_lines_go_out_as_subitems_kept_in_step_by_line_id(live):
    from integrations.models import Route, SyncedLine

    live.route_obj.line_items = Route.LineItems.SUBITEMS
    live.route_obj.save()
    invoice = live.invoice(amounts=(100, 200))
    live.drain()
    (item,) = live.items()
    assert len(item["subitems"]) == 2
    assert SyncedLine.objects.filter(removed=False).exclude(monday_subitem_id="").count() == 2
    # One line removed, one changed, one added in Exact.
    lines = invoice["SalesInvoiceLines"]
    new_lines = [
        {
            "GLAccount": lines[1]["GLAccount"],
            "CostCenter": "KP-100",
            "Description": "Changed",
            "Quantity": 1,
            "AmountFC": 250,
        },
        {
            "GLAccount": lines[1]["GLAccount"],
            "CostCenter": "KP-100",
            "Description": "Added",
            "Quantity": 1,
            "AmountFC": 50,
        },
    ]
    live.exact.update_sales_invoice(101, invoice["InvoiceID"], lines=new_lines)
    live.drain()
    (item,) = live.items()
    # Exact gave the edited lines new ids: the two old subitems are marked, never deleted.
    marked = [s for s in item["subitems"] if s["texts"].get("status") == "Removed in Exact"]
    assert len(item["subitems"]) == 4 and len(marked) == 2
    assert SyncedLine.objects.filter(removed=True).count() == 2
    live_lines = set(
        SyncedLine.objects.filter(removed=False).values_list("exact_line_id", flat=True)
    )
    assert {s["texts"]["text"] for s in item["subitems"] if s not in marked} == live_lines
    # A second pass with nothing changed writes nothing.
    before = len(live.monday.requests)
    live.route_obj.refresh_from_db()
    from integrations import sync

    sync.sync_record(live.route_obj, division=101, exact_key=invoice["InvoiceID"].lower())
    assert len(live.monday.requests) == before


def test_a_division_moved_by_exact_is_resynchronised_without_duplicates(live):
    route = live.route_obj
    invoice = live.invoice(amounts=(100,))
    live.exact.webhooks_enabled = False
    polling.poll_division(route, 101)
    live.exact.move_division(101)  # every Timestamp regenerated, lower than before
    live.exact.store.rowversion = 5000  # ...and the new database's row versions continue low
    assert polling.check_division_moves() == 1
    live.exact.update_sales_invoice(101, invoice["InvoiceID"], Description="After the move")
    polling.poll_division(route, 101)
    (item,) = live.items()
    assert "After the move" in texts(item)["description"]
    assert AuditEvent.objects.filter(action="poll.cursor_reset").count() == 1


def test_a_revoked_monday_token_parks_events_until_monday_is_reconnected(live):
    from integrations.monday import connections as monday_connections
    from integrations.sync import job_queue
    from tests.stack import MONDAY_TOKEN

    live.monday._tokens.pop(MONDAY_TOKEN)  # the token is revoked in Monday.com
    live.invoice()
    assert live.drain() == ["waiting"]
    live.monday_conn.refresh_from_db()
    assert live.monday_conn.status == "needs_reauth"
    assert AuditEvent.objects.filter(object_type="integrations.MondayConnection").exists()
    live.monday.add_token("fresh-token")
    monday_connections.connect_monday_token(
        user=live.user, name="Sandbox Monday", token="fresh-token", connection=live.monday_conn
    )
    WebhookEvent.objects.update(
        received_at=WebhookEvent.objects.get().received_at.replace(year=2020)
    )
    assert job_queue.enqueue_due_events() == 1
    assert live.drain() == ["done"]
    assert len(live.items()) == 1


def test_webhook_subscriptions_register_list_remove_and_the_daily_check_recreates(live, capsys):
    from django.core.management import call_command

    # The live fixture subscribed both divisions already: registering again creates nothing.
    assert subscriptions.register_subscriptions() == {"created": 0, "present": 2}
    call_command("exact_webhooks", "list")
    out = capsys.readouterr().out
    assert "SalesInvoices" in out and "https://connector.example.test/webhooks/exact/" in out
    from integrations.exact.connections import for_connection

    client = for_connection(live.exact_conn)
    (sub,) = client.list_webhook_subscriptions(101)
    client.delete_webhook_subscription(101, sub["ID"])  # someone removed it in Exact
    assert subscriptions.ensure_webhook_subscriptions() == 1
    call_command("exact_webhooks", "remove")
    assert "2 subscription(s) removed" in capsys.readouterr().out
    assert client.list_webhook_subscriptions(101) == client.list_webhook_subscriptions(102) == []
    assert AuditEvent.objects.filter(action="webhook.unsubscribed").count() == 2


def test_webhook_subscriptions_are_managed_from_the_routes_admin(live, admin_client):
    from django.urls import reverse

    url = reverse("admin:integrations_route_changelist")
    selected = {"_selected_action": [live.route_obj.pk]}

    def act(action):
        response = admin_client.post(url, {"action": action, **selected}, follow=True)
        return [str(m) for m in response.context["messages"]]

    assert any("Division 101: SalesInvoices" in m for m in act("list_webhooks"))
    assert act("remove_webhooks") == ["Removed 2 subscriptions; polling still runs."]
    assert act("list_webhooks") == ["No webhook subscriptions: register them."]
    assert act("register_webhooks") == ["Webhooks: 2 subscriptions created, 0 already there."]
