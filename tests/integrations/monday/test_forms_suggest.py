"""Route setup: picking a board pre-fills the column roles from the board's column titles."""

import pytest

from integrations.forms import RouteColumnsForm, role_field_name, suggest_columns
from integrations.models import MondayBoard
from integrations.sandbox.monday_fixtures import FINANCE_COLUMNS, FINANCE_GROUPS

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(monday_connection):
    return MondayBoard.objects.create(
        connection=monday_connection,
        board_id="1001",
        name="Finance",
        columns=FINANCE_COLUMNS,
        groups=FINANCE_GROUPS,
    )


def test_suggestions_follow_titles_and_types(board):
    s = suggest_columns(board)
    assert s["exact_key"] == "exact_key" and s["exact_number"] == "exact_number"
    assert s["date"] == "invoice_date" and s["amount"] == "amount"
    assert s["gl_account"] == "gl_account" and s["cost_center"] == "cost_center"
    assert s["review_flag"] == "review" and s["status"] == "status"
    assert len(set(s.values())) == len(s)  # one role per column


def test_picking_a_board_asks_to_check_the_prefilled_columns_then_saves(
    board, exact_connection, monday_connection
):
    data = {
        "name": "Invoices",
        "enabled": "on",
        "entity": "sales_invoice",
        "exact_connection": exact_connection.pk,
        "divisions": [exact_connection.divisions.first().pk],
        "monday_connection": monday_connection.pk,
        "board_id": "1001",
        "group_id": "",
        "division_groups": "{}",
        "line_items": "none",
        "line_rule": "largest_amount",
        "deleted_label": "Deleted in Exact",
        "poll_interval_minutes": 15,
    }
    first = RouteColumnsForm(data=data)
    assert not first.is_valid()
    assert "pre-filled" in str(first.non_field_errors())
    assert first.data[role_field_name("exact_key")] == "exact_key"
    second = RouteColumnsForm(data=first.data)
    assert second.is_valid(), second.errors
    route = second.save()
    assert route.columns["exact_key"] == "exact_key" and route.columns["amount"] == "amount"
