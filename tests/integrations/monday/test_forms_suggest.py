"""Route setup: picking a board pre-fills the column roles from the board's column titles."""

import pytest

from integrations.forms import RouteColumnsForm, board_setup, role_field_name, suggest_columns
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


def _route_data(exact_connection, monday_connection, **extra) -> dict:
    return {
        "name": "Invoices",
        "enabled": "on",
        "entity": "sales_invoice",
        "exact_connection": exact_connection.pk,
        "divisions": [exact_connection.divisions.first().pk],
        "monday_connection": monday_connection.pk,
        "board_id": "1001",
        "group_id": "",
        "line_items": "none",
        "line_rule": "largest_amount",
        "deleted_label": "Deleted in Exact",
        "poll_interval_minutes": 15,
        **extra,
    }


def test_a_board_picked_without_roles_saves_at_once_with_the_suggested_columns(
    board, exact_connection, monday_connection
):
    form = RouteColumnsForm(data=_route_data(exact_connection, monday_connection))
    assert form.is_valid(), form.errors  # no "check and save again" round trip
    route = form.save()
    assert route.columns["exact_key"] == "exact_key" and route.columns["amount"] == "amount"
    assert route.columns == suggest_columns(board)


def test_roles_chosen_on_the_page_are_kept_as_chosen(board, exact_connection, monday_connection):
    data = _route_data(
        exact_connection,
        monday_connection,
        **{role_field_name("exact_key"): "exact_key", role_field_name("date"): "due_date"},
    )
    form = RouteColumnsForm(data=data)
    assert form.is_valid(), form.errors
    route = form.save()
    assert route.columns == {"exact_key": "exact_key", "date": "due_date"}


def test_division_groups_are_picked_per_division_from_the_boards_groups(
    board, exact_connection, monday_connection
):
    code = exact_connection.divisions.first().code
    ok = RouteColumnsForm(
        data=_route_data(
            exact_connection, monday_connection, **{f"division_groups_{code}": "group_done"}
        )
    )
    assert ok.is_valid(), ok.errors
    assert ok.save().division_groups == {str(code): "group_done"}
    bad = RouteColumnsForm(
        data=_route_data(exact_connection, monday_connection, **{f"division_groups_{code}": "nope"})
    )
    assert not bad.is_valid() and "board" in str(bad.errors["division_groups"])


def test_board_setup_offers_each_roles_columns_the_suggestion_and_the_groups(board):
    setup = board_setup(board)
    assert setup["roles"]["amount"] == {"choices": [["amount", "Amount"]], "suggested": "amount"}
    assert setup["roles"]["exact_key"]["suggested"] == "exact_key"
    assert setup["groups"][0] == ["topics", "Incoming"]
