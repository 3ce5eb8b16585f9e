"""Board discovery: paging, parsed settings, subitem boards folded in, role compatibility."""

from __future__ import annotations

import json

import pytest

from integrations.models import ColumnRole, MondayBoard
from integrations.monday.boards import (
    BOARDS_PAGE_SIZE,
    ROLE_COLUMN_TYPES,
    column_titles,
    compatible_columns,
    list_boards,
    parse_settings,
)
from integrations.monday.client import MondayClient

URL = "https://api.monday.test/v2"


def board(i: int, **kw) -> dict:
    return {"id": str(i), "name": f"Board {i}", "type": "board", "columns": [], "groups": [], **kw}


def test_settings_str_is_parsed_and_garbage_counts_as_no_settings():
    assert parse_settings('{"labels": {"0": "Open"}}') == {"labels": {"0": "Open"}}
    assert parse_settings("not json") == {}
    assert parse_settings("[1]") == {}
    assert parse_settings(None) == {}


def test_boards_are_read_page_by_page_until_a_short_page(mocked_http):
    full = {"data": {"boards": [board(i) for i in range(BOARDS_PAGE_SIZE)]}}
    mocked_http.post(URL, json=full)
    mocked_http.post(URL, json={"data": {"boards": [board(999)]}})
    boards = list_boards(MondayClient(token="t", api_url=URL, sleep=lambda s: None))
    assert len(boards) == BOARDS_PAGE_SIZE + 1
    pages = [json.loads(c.request.body)["variables"]["page"] for c in mocked_http.calls]
    assert pages == [1, 2]


def test_a_subitem_board_not_in_the_listing_is_fetched_by_id(mocked_http):
    subtasks = {
        "id": "subitems",
        "title": "Subitems",
        "type": "subtasks",
        "settings_str": '{"boardIds": [77]}',
    }
    mocked_http.post(URL, json={"data": {"boards": [board(1, columns=[subtasks])]}})
    sub = board(
        77,
        type="sub_items_board",
        columns=[{"id": "qty", "title": "Qty", "type": "numbers", "settings_str": "{}"}],
    )
    mocked_http.post(URL, json={"data": {"boards": [sub]}})
    (info,) = list_boards(MondayClient(token="t", api_url=URL, sleep=lambda s: None))
    assert info.subitem_board_id == "77"
    assert [c.id for c in info.subitem_columns] == ["qty"]
    assert json.loads(mocked_http.calls[1].request.body)["variables"] == {"ids": ["77"]}


def test_every_column_role_has_allowed_types():
    assert set(ROLE_COLUMN_TYPES) == set(ColumnRole)
    assert ROLE_COLUMN_TYPES[ColumnRole.EXACT_KEY] == {"text"}


@pytest.mark.django_db
def test_compatible_columns_keep_board_order_and_skip_other_types(monday_connection):
    cached = MondayBoard.objects.create(
        connection=monday_connection,
        board_id="1",
        name="B",
        columns=[
            {"id": "a", "title": "Net", "type": "numbers"},
            {"id": "b", "title": "Note", "type": "text"},
            {"id": "c", "title": "Gross", "type": "numbers"},
            {"id": "f", "title": "Formula", "type": "formula"},
        ],
    )
    assert compatible_columns(cached, ColumnRole.AMOUNT) == [("a", "Net"), ("c", "Gross")]
    assert compatible_columns(cached, ColumnRole.EXACT_LINK) == []
    assert column_titles(cached)["c"] == "Gross"
