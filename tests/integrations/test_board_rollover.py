"""Board rollover: the pure choices (names, periods, role matching) and the sandbox's
duplicate_board, which copies the structure only."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from integrations.monday import queries
from integrations.sync.board_rollover import board_name, match_group, match_roles, period_of
from tests.integrations.sandbox.test_monday_sandbox import CREATE, codes, gql

OLD = [
    {"id": "name", "title": "Name", "type": "name"},
    {"id": "amount", "title": "Amount", "type": "numbers"},
    {"id": "text1", "title": "Exact key", "type": "text"},
    {"id": "text2", "title": "Description", "type": "text"},
]


def test_roles_follow_their_column_by_title_and_type_when_the_copy_has_new_ids():
    new = [
        {"id": "name", "title": "Name", "type": "name"},
        {"id": "numbers_mk1", "title": "Amount", "type": "numbers"},
        {"id": "text_mk2", "title": "Exact key", "type": "text"},
        {"id": "text_mk3", "title": "Description", "type": "text"},
    ]
    roles = {"amount": "amount", "exact_key": "text1", "description": "text2", "gone": "x9"}
    mapped, missing = match_roles(OLD, new, roles)
    assert mapped == {"amount": "numbers_mk1", "exact_key": "text_mk2", "description": "text_mk3"}
    assert missing == []


def test_roles_keep_their_ids_when_the_copy_kept_them_and_a_missing_column_is_reported():
    new = [c for c in OLD if c["id"] != "text2"]
    mapped, missing = match_roles(OLD, new, {"amount": "amount", "description": "text2"})
    assert mapped == {"amount": "amount"}
    assert missing == ["description"]


def test_two_roles_never_share_one_column_of_the_copy():
    old = [{"id": "a", "title": "T", "type": "text"}, {"id": "b", "title": "T", "type": "text"}]
    new = [{"id": "c", "title": "T", "type": "text"}, {"id": "d", "title": "T", "type": "text"}]
    assert match_roles(old, new, {"r1": "a", "r2": "b"})[0] == {"r1": "c", "r2": "d"}


def test_groups_follow_by_id_else_by_title():
    old = [{"id": "topics", "title": "Invoices"}, {"id": "g2", "title": "Amsterdam"}]
    new = [{"id": "group_mk1", "title": "Invoices"}, {"id": "g2", "title": "Other"}]
    assert match_group(old, new, "topics") == "group_mk1"
    assert match_group(old, new, "g2") == "g2"
    assert match_group(old, new, "") == ""


def test_new_boards_are_named_by_the_admins_rule():
    assert board_name("{board} ({n})", board="Invoices", number=2, period="") == "Invoices (2)"
    assert board_name("{board} {period}", board="Inv", number=3, period="2027-Q1") == "Inv 2027 Q1"
    assert board_name("{board} {year}", board="Inv", number=2, period="2027") == "Inv 2027"
    # A rule that does not format never stops the sync.
    assert board_name("{board} {oops}", board="Inv", number=4, period="") == "Inv (4)"


def test_the_period_of_a_document_is_its_year_or_quarter():
    doc = SimpleNamespace(document_date=date(2027, 5, 2))
    assert period_of(SimpleNamespace(board_period=""), doc) == ""
    assert period_of(SimpleNamespace(board_period="year"), doc) == "2027"
    assert period_of(SimpleNamespace(board_period="quarter"), doc) == "2027-Q2"


@pytest.fixture
def monday():
    from integrations.sandbox.monday import MondaySandbox

    return MondaySandbox(tokens={"t": {}})


def test_the_sandbox_duplicates_columns_and_groups_with_new_ids_and_no_items(monday):
    board = monday.finance_board("Invoices")
    created = gql(monday, CREATE, {"board": board, "name": "One", "values": "{}"}, token="t")
    assert created.json()["data"]["create_item"]["id"]
    answer = gql(
        monday,
        queries.DUPLICATE_BOARD,
        {"board_id": board, "board_name": "Invoices (2)"},
        token="t",
    ).json()
    result = answer["data"]["duplicate_board"]
    copy = result["board"]
    assert result["is_async"] is False and copy["name"] == "Invoices (2)" and copy["id"] != board
    old = {c["title"]: c for c in monday.board_columns(board)}
    new = {c["title"]: c for c in monday.board_columns(copy["id"])}
    assert set(new) == set(old) and all(new[t]["type"] == old[t]["type"] for t in old)
    assert all(new[t]["settings"] == old[t]["settings"] for t in old)
    assert {c["id"] for c in new.values()} & {c["id"] for c in old.values()} == {"name"}
    assert [g["title"] for g in copy["groups"]]
    assert monday.items(copy["id"]) == [] and len(monday.items(board)) == 1


def test_the_sandbox_refuses_a_duplicate_with_items_it_does_not_emulate(monday):
    board = monday.finance_board("Invoices")
    doc = """mutation ($b: ID!) { duplicate_board(board_id: $b,
      duplicate_type: duplicate_board_with_pulses) { board { id } } }"""
    answer = gql(monday, doc, {"b": board}, token="t")
    assert codes(answer) == ["InvalidArgumentException"]
