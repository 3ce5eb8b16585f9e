"""Lines as subitems at toy size, every limit on: subitems go out in packed batches, their
columns are known once per board, and the first item on a fresh board gets its values too."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from integrations.models import MondayBoard, Route, SyncedLine, SyncedRecord
from integrations.sync import polling

pytestmark = pytest.mark.django_db

INVOICES = 20
LINES = (100, 250.5, 40)


@pytest.fixture
def live(stack):
    stack.connect(divisions=((101, "Amsterdam"),))
    stack.add_reference_data()
    route = stack.route(line_items=Route.LineItems.SUBITEMS)
    stack.map(route, "gl_account", "8000", "8000 Revenue")
    stack.map(route, "cost_center", "KP-100", "KP-100")
    return stack


def _lines(stack, amounts):
    gl = stack.gl_id(101, "8000")
    return [
        {"GLAccount": gl, "CostCenter": "KP-100", "Description": f"L{i}", "AmountFC": a}
        for i, a in enumerate(amounts, start=1)
    ]


def _add(stack, amounts):
    return stack.exact.add_sales_invoice(
        101,
        account=stack.customer["ID"],
        lines=_lines(stack, amounts),
        invoice_date=date(2026, 11, 2),
    )


def _poll(stack) -> int:
    """Monday requests one poll of the route costs."""
    before = len(stack.monday.requests)
    counts = polling.poll_division(Route.objects.get(pk=stack.route_obj.pk), 101)
    assert counts["failed"] == 0
    return len(stack.monday.requests) - before


def _check_subitems(stack, expected_amounts: dict[str, tuple]):
    """Every item has one live subitem per Exact line, carrying its line id and amount."""
    assert set(SyncedRecord.objects.values_list("last_error", flat=True)) == {""}
    items = {i["texts"]["exact_key"]: i for i in stack.items()}
    for key, amounts in expected_amounts.items():
        live = [s for s in items[key]["subitems"] if s["texts"].get("status") != "Removed in Exact"]
        line_ids = set(
            SyncedLine.objects.filter(record__exact_key=key, removed=False).values_list(
                "exact_line_id", flat=True
            )
        )
        assert sorted(s["texts"].get("text") or "" for s in live) == sorted(line_ids)
        assert len(live) == len(amounts)
        assert sorted(Decimal(s["texts"]["numbers"]) for s in live) == sorted(
            Decimal(str(a)) for a in amounts
        )


@pytest.mark.parametrize("amounts", [(100,), (100, 200)])
def test_the_first_item_on_a_fresh_board_gets_its_subitem_values(live, amounts):
    invoice = _add(live, amounts)
    assert live.monday.subitems_board_id(live.board_id) is None
    _poll(live)
    _check_subitems(live, {invoice["InvoiceID"].lower(): amounts})
    # The subitem board and its columns are now known, found in the same sync.
    board = MondayBoard.objects.get(board_id=live.board_id)
    assert board.subitem_board_id == live.monday.subitems_board_id(live.board_id)
    assert {c["type"] for c in board.subitem_columns} >= {"text", "numbers"}


def test_twenty_invoices_of_three_lines_cost_a_few_requests_not_four_each(live):
    _add(live, (1,))
    _poll(live)  # the board's first subitem creates its subitems board
    invoices = [_add(live, LINES) for _ in range(INVOICES)]
    keys = [inv["InvoiceID"].lower() for inv in invoices]

    # 1 item batch + 60 subitems packed under the ceiling (2 batches); no read per invoice.
    assert _poll(live) <= 4
    _check_subitems(live, dict.fromkeys(keys, LINES))

    # Every line of every invoice changed (Exact gives edited lines new ids): 60 new subitems,
    # 60 old ones marked removed, one batched read for records written before. A constant.
    for inv in invoices:
        live.exact.update_sales_invoice(101, inv["InvoiceID"], lines=_lines(live, (7, 8, 9)))
    assert _poll(live) <= 7
    _check_subitems(live, dict.fromkeys(keys, (7, 8, 9)))
    items = {i["texts"]["exact_key"]: i for i in live.items()}
    for key in keys:
        subs = items[key]["subitems"]
        assert len(subs) == 6
        assert sum(s["texts"].get("status") == "Removed in Exact" for s in subs) == 3
    # Nothing changed: nothing written.
    assert _poll(live) == 0


def test_a_replaced_subitem_column_is_found_again_when_monday_says_it_is_unknown(live):
    _add(live, (1,))
    _poll(live)
    # Finance replaces the subitems' number column with one of its own.
    sub_board = live.monday.store.board(live.monday.subitems_board_id(live.board_id))
    sub_board.columns = [c for c in sub_board.columns if c["id"] != "numbers"]
    sub_board.columns.append({"id": "line_amount", "title": "Amount", "type": "numbers"})
    invoice = _add(live, (5, 6))
    # 1 item + the refused subitems + one read of the subitem board's columns + the resend.
    assert _poll(live) <= 4
    (item,) = [i for i in live.items() if i["texts"]["exact_key"] == invoice["InvoiceID"].lower()]
    amounts = sorted(Decimal(s["texts"].get("line_amount") or "0") for s in item["subitems"])
    assert amounts == [5, 6]
    board = MondayBoard.objects.get(board_id=live.board_id)
    assert "line_amount" in {c["id"] for c in board.subitem_columns}
    assert set(SyncedRecord.objects.values_list("last_error", flat=True)) == {""}


def test_a_retry_after_lost_subitem_answers_finds_them_instead_of_adding_more(live):
    from integrations import sync

    _add(live, (1,))
    _poll(live)
    invoices = [_add(live, LINES) for _ in range(3)]
    _poll(live)
    # The answers were lost (the worker died before saving): nothing local knows the subitems.
    SyncedLine.objects.filter(
        record__exact_key__in=[i["InvoiceID"].lower() for i in invoices]
    ).delete()
    SyncedRecord.objects.update(content_hash="")
    route = Route.objects.get(pk=live.route_obj.pk)
    before = len(live.monday.requests)
    for inv in invoices:
        sync.sync_record(route, division=101, exact_key=inv["InvoiceID"].lower())
    items = {i["texts"]["exact_key"]: i for i in live.items()}
    for inv in invoices:
        assert len(items[inv["InvoiceID"].lower()]["subitems"]) == 3  # found, not created again
    _check_subitems(live, {inv["InvoiceID"].lower(): LINES for inv in invoices})
    # Per record: its item update, one read of its subitems, their updates.
    assert len(live.monday.requests) - before == 3 * 3
