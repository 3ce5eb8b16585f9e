"""The same Exact document gives the same Monday item whichever way it arrives.

A webhook reads the document through the regular endpoints (purchaseorder/PurchaseOrderLines
carry the cost center code in CostCenter); a poll reads the sync feed (on the purchase-order
feed CostCenter is a GUID and the code is in CostCenterCode, reference §6.3), where rows of
documents saved together interleave and pages end anywhere (§5.1). Two routes on two boards:
one fed by webhooks, one by polling; their items must be identical.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from integrations.models import Entity, Route, SyncedRecord
from integrations.sandbox.monday_fixtures import FINANCE_ROLES
from integrations.sync import polling, subscriptions

pytestmark = pytest.mark.django_db

KIND = {Entity.PURCHASE_ORDER: "po", Entity.SALES_INVOICE: "si", Entity.SALES_ORDER: "so"}
KEY = {"po": "PurchaseOrderID", "si": "InvoiceID", "so": "OrderID"}
# (cost centers of the lines, line amounts); the largest line decides the item's cost center.
DOCUMENTS = [
    (["KP-100", "KP-200", "KP-100"], [120.5, 880.25, 40]),
    (["KP-300", "KP-100"], [500, 90]),  # KP-300 has no mapping: flagged, both ways
    ([], []),  # no lines at all
]


def add_document(stack, entity, supplier, centers, amounts, n):
    kind = KIND[entity]
    lines = [
        {"CostCenter": cc, "CostUnit": "CU-7", "Description": f"Line {i}", "AmountFC": amount}
        for i, (cc, amount) in enumerate(zip(centers, amounts, strict=True), start=1)
    ]
    common = dict(lines=lines, description=f"Document {n}")
    if kind == "po":
        doc = stack.exact.add_purchase_order(
            101, account=supplier["ID"], order_date=date(2026, 11, 2), **common
        )
    elif kind == "so":
        doc = stack.exact.add_sales_order(
            101, account=stack.customer["ID"], order_date=date(2026, 11, 2), **common
        )
    else:
        for line in lines:
            line["GLAccount"] = stack.gl_id(101, "8000")
        doc = stack.exact.add_sales_invoice(
            101, account=stack.customer["ID"], invoice_date=date(2026, 11, 2), **common
        )
    return doc


def make_route(stack, entity, board_id, name) -> Route:
    roles = dict(FINANCE_ROLES)
    if entity != Entity.SALES_INVOICE:
        roles.pop("gl_account")  # orders carry no GL account (reference §6.2, §6.3)
    route = stack.route(
        name=name,
        entity=entity,
        board_id=board_id,
        columns=roles,
        line_items=Route.LineItems.SUBITEMS,
    )
    stack.map(route, "gl_account", "8000", "8000 Revenue")
    for code in ("KP-100", "KP-200"):
        stack.map(route, "cost_center", code, code)
    return route


def board_view(stack, board_id) -> dict:
    def plain(item):
        return {
            "name": item["name"],
            "group": item["group_id"],
            # The subitems column links item ids, which differ per board by nature.
            "values": {k: v for k, v in item["column_values"].items() if k != "subitems"},
            "texts": {k: v for k, v in item["texts"].items() if k != "subitems"},
            # Names carry each line's number, description, cost center and amount. (Subitem
            # column values are left out: the first item written on a board creates its
            # subitem board and goes without them, whichever way it came.)
            "subitems": sorted(s["name"] for s in item["subitems"]),
        }

    return {item["texts"]["exact_key"]: plain(item) for item in stack.monday.items(board_id)}


def records(route) -> dict:
    return {
        r.exact_key: (r.state, r.review_reasons, r.snapshot)
        for r in SyncedRecord.objects.filter(route=route)
    }


@pytest.mark.parametrize("entity", list(KIND))
def test_a_document_is_the_same_item_by_webhook_and_by_poll(stack, entity):
    stack.connect(divisions=((101, "Amsterdam"),))
    stack.add_reference_data()
    stack.exact.add_cost_center(101, "KP-300", "Harbour works")
    stack.refresh_reference_data()
    supplier = stack.exact.add_account(101, "S001", "Staal & Zonen BV", supplier=True)
    by_webhook = make_route(stack, entity, stack.board_id, "By webhook")
    subscriptions.register_subscriptions()
    stack.exact.webhooks_enabled = True
    docs = [
        add_document(stack, entity, supplier, centers, amounts, n)
        for n, (centers, amounts) in enumerate(DOCUMENTS, start=1)
    ]
    keys = [doc[KEY[KIND[entity]]] for doc in docs]
    # Saved again at one moment: on the sync feed their rows interleave.
    stack.exact.save_together(101, KIND[entity], keys)
    assert set(stack.drain()) == {"done"}

    stack.exact.webhooks_enabled = False
    polled_board = stack.monday.finance_board("Finance — polled")
    by_poll = make_route(stack, entity, polled_board, "By poll")
    stack.exact.sync_page_size = 3  # pages end inside documents
    counts = polling.poll_division(by_poll, 101)

    webhook_items = board_view(stack, stack.board_id)
    assert set(webhook_items) == {k.lower() for k in keys}
    assert board_view(stack, polled_board) == webhook_items
    assert records(by_poll) == records(by_webhook)
    assert counts["documents"] == len(DOCUMENTS) and counts["failed"] == 0  # each once
    # And the items say what Exact says: the header total, the largest line's cost center.
    first, second, empty = (webhook_items[k.lower()]["texts"] for k in keys)
    assert Decimal(first["amount"]) == Decimal(str(docs[0]["AmountFC"]))
    assert first["cost_center"] == "KP-200" and first["review"] == "OK"
    assert second["review"] == "Needs review" and "cost_center" not in second
    assert first["description"] == "Document 1" and empty["description"] == "Document 3"
    assert len(webhook_items[keys[0].lower()]["subitems"]) == 3
