"""The Exact sandbox's sync feeds: rows of documents saved together interleave (reference §5.1
promises no grouping), pages can be made small for tests, and the purchase-order feed carries
GUIDs in CostCenter/CostUnit with the codes beside them (§6.3)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from integrations.sandbox.exact import ExactSandbox
from tests.integrations.sandbox.test_exact_sandbox import api

DIV = 101
PO_SELECT = "PurchaseOrderID,LineNumber,CostCenter,CostCenterCode,CostUnit,CostUnitCode"


@pytest.fixture
def sandbox():
    sb = ExactSandbox()
    sb.add_division(DIV, "Amsterdam")
    sb.add_cost_center(DIV, "KP-100", "Office")
    sb.supplier = sb.add_account(DIV, "S1", "Supplier", supplier=True)
    return sb


def order(sandbox, lines: int) -> str:
    return sandbox.add_purchase_order(
        DIV,
        account=sandbox.supplier["ID"],
        order_date=date(2026, 11, 2),
        lines=[{"CostCenter": "KP-100", "CostUnit": "CU-7", "AmountFC": 10} for _ in range(lines)],
    )["PurchaseOrderID"]


def feed(token, base, since: int = 1) -> list[dict]:
    params = {"$filter": f"Timestamp gt {since}L", "$select": f"Timestamp,{PO_SELECT}"}
    return api(base, token, f"{DIV}/sync/PurchaseOrder/PurchaseOrders", params).json()["d"]


def test_documents_saved_together_interleave_on_the_feed(sandbox, token_and_base):
    token, base = token_and_base
    a, b = order(sandbox, 2), order(sandbox, 1)
    before = max(r["Timestamp"] for r in feed(token, base)["results"])
    sandbox.save_together(DIV, "po", [a, b])
    rows = feed(token, base, since=before)["results"]
    assert [(r["PurchaseOrderID"], r["LineNumber"]) for r in rows] == [
        (a, 0),
        (b, 0),
        (a, 1),
        (b, 1),
        (a, 2),
    ]
    assert len(feed(token, base)["results"]) == 5  # the old row versions are gone


def test_sync_pages_can_be_made_small_and_follow_on_with_next(sandbox, token_and_base):
    token, base = token_and_base
    order(sandbox, 4)
    sandbox.sync_page_size = 2
    first = feed(token, base)
    assert len(first["results"]) == 2 and "__next" in first
    sandbox.sync_page_size = None  # Exact's 1,000 again
    assert len(feed(token, base)["results"]) == 5


def test_purchase_order_feed_has_guids_in_cost_center_and_cost_unit(sandbox, token_and_base):
    token, base = token_and_base
    order(sandbox, 1)
    [line] = [r for r in feed(token, base)["results"] if r["LineNumber"]]
    assert line["CostCenterCode"] == "KP-100" and line["CostUnitCode"] == "CU-7"
    assert line["CostCenter"] == sandbox.cost_centers(DIV)[0]["ID"]
    assert uuid.UUID(line["CostUnit"])  # a GUID, not the code
