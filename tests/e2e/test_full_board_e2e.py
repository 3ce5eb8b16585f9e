"""A board Monday.com refuses as full (ItemsLimitationException) although the route had room on
it: items were added there by hand, or the count was not known. The route rolls over and the
refused creates go to the new board in the same job: no write fails."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from integrations.models import Route, RouteBoard, SyncedRecord, WebhookEvent
from tests.reliability.conftest import make_live

pytestmark = pytest.mark.django_db

LIMIT = 20  # Monday.com's 10,000 items a board, scaled down


def exact_keys(stack, board_id: str) -> list[str]:
    titles = {c["id"]: c["title"] for c in stack.monday.board_columns(board_id)}
    return [
        v
        for item in stack.monday.items(board_id)
        for k, v in item["texts"].items()
        if titles.get(k) == "Exact key"
    ]


def test_a_board_filled_by_hand_is_rolled_over_when_monday_refuses_and_nothing_fails(stack):
    stack.monday.store.max_items_per_board = LIMIT
    live = make_live(stack)
    route = live.route_obj
    Route.objects.filter(pk=route.pk).update(board_item_limit=LIMIT)
    first_board = live.board_id

    first = [live.invoice(amounts=(100 + n,)) for n in range(8)]
    assert live.drain() == ["done"] * 8
    # Someone adds 6 items to the board in Monday.com: the route still counts 8 of 20.
    board = live.monday.store.board(first_board)
    for n in range(6):
        live.monday.store.create_item(board, f"Added by hand {n}", "{}")
    assert RouteBoard.objects.get(route=route, board_id=first_board).item_count == 8

    # A burst of 10: the route plans all 10 on the first board; Monday takes 6 and refuses 4.
    burst = [live.invoice(amounts=(200 + n,)) for n in range(10)]
    assert set(live.drain()) == {"done"}
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {"done"}
    route.refresh_from_db()
    second_board = route.board_id
    assert second_board != first_board
    assert len(live.monday.items(first_board)) == LIMIT
    assert len(live.monday.items(second_board)) == 4
    keys = exact_keys(live, first_board) + exact_keys(live, second_board)
    assert sorted(keys) == sorted(i["InvoiceID"].lower() for i in [*first, *burst])
    assert not SyncedRecord.objects.exclude(state=SyncedRecord.State.SYNCED).exists()
    on_second = SyncedRecord.objects.filter(monday_board_id=second_board)
    assert on_second.count() == 4 and not on_second.filter(monday_item_id="").exists()
    assert AuditEvent.objects.filter(action="item.failed").count() == 0
    full = AuditEvent.objects.get(action="route.board_full")
    assert "refused new items" in full.message and "by other means" in full.message
    assert AuditEvent.objects.filter(action="route.board_rolled_over").count() == 1

    # The next document goes on the new board, counted from the 4 it holds.
    live.invoice(amounts=(300,))
    assert live.drain() == ["done"]
    assert len(live.monday.items(second_board)) == 5
    assert RouteBoard.objects.get(route=route, board_id=second_board).item_count == 5


def test_a_route_that_does_not_know_the_boards_limit_rolls_over_at_mondays_refusal(stack):
    # The route keeps its default limit of 10,000; Monday's board holds 20 (scaled down).
    stack.monday.store.max_items_per_board = LIMIT
    live = make_live(stack)
    route = live.route_obj
    invoices = [live.invoice(amounts=(100 + n,)) for n in range(LIMIT + 5)]
    assert set(live.drain()) == {"done"}
    route.refresh_from_db()
    boards = list(RouteBoard.objects.filter(route=route).order_by("number"))
    assert [len(live.monday.items(b.board_id)) for b in boards] == [LIMIT, 5]
    keys = [k for b in boards for k in exact_keys(live, b.board_id)]
    assert sorted(keys) == sorted(i["InvoiceID"].lower() for i in invoices)
    assert AuditEvent.objects.filter(action="item.failed").count() == 0
