"""Boards that never fill up: a route rolls over to a copy of its board before the board
reaches its item limit; items stay on their board and are updated there."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from integrations.models import Route, RouteBoard, SyncedRecord
from integrations.sync import polling
from tests.reliability.conftest import make_live

pytestmark = pytest.mark.django_db

LIMIT = 20


def by_title(stack, board_id: str, item: dict) -> dict:
    """An item's values keyed by column title (a copied board has new column ids)."""
    titles = {c["id"]: c["title"] for c in stack.monday.board_columns(board_id)}
    return {titles[k]: v for k, v in item["texts"].items() if k in titles}


def test_a_route_with_a_limit_of_20_rolls_over_at_the_21st_item_and_updates_stay_put(
    stack, admin_client
):
    # Monday.com's cap of 10,000 items a board, scaled down: the 21st create would be refused.
    stack.monday.store.max_items_per_board = LIMIT
    live = make_live(stack)
    route = live.route_obj
    Route.objects.filter(pk=route.pk).update(board_item_limit=LIMIT)
    first_board = live.board_id

    invoices = [live.invoice(amounts=(100 + i,)) for i in range(LIMIT)]
    assert live.drain() == ["done"] * LIMIT
    assert len(live.monday.items(first_board)) == LIMIT
    assert not AuditEvent.objects.filter(action="route.board_rolled_over").exists()

    invoices.append(live.invoice(amounts=(121,)))  # the 21st goes on a new board
    assert live.drain() == ["done"]
    route.refresh_from_db()
    second_board = route.board_id
    assert second_board != first_board
    assert len(live.monday.items(first_board)) == LIMIT
    (item21,) = live.monday.items(second_board)
    assert by_title(live, second_board, item21)["Exact key"] == invoices[-1]["InvoiceID"]

    # 24 more by polling: 19 fill the second board, 5 go on a third.
    live.exact.webhooks_enabled = False
    live.exact.bulk_add_sales_invoices(101, 24, lines_per_invoice=1)
    polling.poll_division(route, 101)
    route.refresh_from_db()
    boards = list(RouteBoard.objects.filter(route=route).order_by("number"))
    assert [b.board_id for b in boards[:2]] == [first_board, second_board]
    assert [len(live.monday.items(b.board_id)) for b in boards] == [LIMIT, LIMIT, 5]
    assert [b.name for b in boards] == [
        "Finance — invoices",
        "Finance — invoices (2)",
        "Finance — invoices (3)",
    ]
    keys = [
        by_title(live, b.board_id, i)["Exact key"]
        for b in boards
        for i in live.monday.items(b.board_id)
    ]
    assert len(keys) == len(set(keys)) == 45
    assert not SyncedRecord.objects.exclude(state=SyncedRecord.State.SYNCED).exists()
    assert AuditEvent.objects.filter(action="item.failed").count() == 0
    assert AuditEvent.objects.filter(action="route.board_rolled_over").count() == 2

    # An update of the 1st invoice changes its item on the first board, nothing new anywhere.
    live.exact.webhooks_enabled = True
    live.exact.update_sales_invoice(101, invoices[0]["InvoiceID"], Description="Corrected")
    assert live.drain() == ["done"]
    rec = SyncedRecord.objects.get(exact_key=invoices[0]["InvoiceID"].lower())
    assert rec.monday_board_id == first_board
    (first_item,) = [i for i in live.monday.items(first_board) if i["id"] == rec.monday_item_id]
    assert "Corrected" in by_title(live, first_board, first_item)["Description"]
    assert [len(live.monday.items(b.board_id)) for b in boards] == [LIMIT, LIMIT, 5]

    # The route's page shows the current board, how full it is, and the earlier boards.
    page = admin_client.get(f"/admin/integrations/route/{route.pk}/change/").content.decode()
    assert "Finance — invoices (3)</strong> — 5 of 20 items" in page
    assert "Finance — invoices (20 items), Finance — invoices (2) (20 items)" in page


def test_a_route_with_a_board_per_year_puts_each_years_documents_on_its_own_board(stack):
    from datetime import date

    live = make_live(stack)
    route = live.route_obj
    Route.objects.filter(pk=route.pk).update(board_period="year", board_name_rule="{board} {year}")
    first = [live.invoice(invoice_date=date(2026, 12, 30)) for _ in range(2)]
    later = live.invoice(invoice_date=date(2027, 1, 2))
    older = live.invoice(invoice_date=date(2026, 12, 31))
    assert live.drain() == ["done"] * 4
    boards = list(RouteBoard.objects.filter(route=route).order_by("number"))
    assert [(b.name, b.period) for b in boards] == [
        ("Finance — invoices", "2026"),
        ("Finance — invoices 2027", "2027"),
    ]
    keys = {
        b.period: sorted(
            by_title(live, b.board_id, i)["Exact key"] for i in live.monday.items(b.board_id)
        )
        for b in boards
    }
    assert keys == {
        "2026": sorted(i["InvoiceID"] for i in [*first, older]),
        "2027": [later["InvoiceID"]],
    }
