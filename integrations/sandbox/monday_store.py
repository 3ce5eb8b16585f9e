"""Boards, groups, columns and items held by the Monday.com sandbox.

Plain records and the operations on them, with Monday.com's rules: column values checked per
type (monday_columns), item names at most 255 characters, at most 10,000 items a board, a
subitems board created with the first subitem. Not thread-safe by itself: `MondaySandbox` holds
one lock around every use.
"""

from __future__ import annotations

import copy
import itertools
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from integrations.sandbox import monday_columns as columns
from integrations.sandbox.monday_errors import MondayApiError

MAX_ITEM_NAME = 255
MAX_ITEMS_PER_BOARD = 10_000
MAX_PAGE = 500
CURSOR_LIFETIME = timedelta(minutes=60)

SUBITEM_COLUMNS = [
    {"id": "person", "title": "Owner", "type": "people"},
    {
        "id": "status",
        "title": "Status",
        "type": "status",
        "settings": {"labels": {"0": "Working on it", "1": "Done", "2": "Stuck"}},
    },
    {"id": "date0", "title": "Date", "type": "date"},
    {"id": "text", "title": "Text", "type": "text"},
    {"id": "numbers", "title": "Numbers", "type": "numbers"},
]


@dataclass
class Board:
    id: str
    name: str
    columns: list[dict]
    groups: list[dict]
    kind: str = "board"  # "board" or "sub_items_board" (BoardObjectType)
    parent_board_id: str | None = None
    subitems_board_id: str | None = None

    def column(self, column_id: str) -> dict:
        for col in self.columns:
            if col["id"] == column_id:
                return col
        raise MondayApiError(
            "InvalidColumnIdException",
            "This column ID doesn't exist for the board",
            {"column_id": column_id, "board_id": int(self.id)},
        )

    def group(self, group_id: str) -> dict:
        for grp in self.groups:
            if grp["id"] == group_id:
                return grp
        raise MondayApiError(
            "InvalidGroupIdException",
            "Group not found",
            {"group_id": group_id, "board_id": int(self.id)},
        )


@dataclass
class Item:
    id: str
    board_id: str
    group_id: str
    name: str
    created_at: datetime
    updated_at: datetime
    values: dict = field(default_factory=dict)  # column id -> stored value (JSON-able)
    texts: dict = field(default_factory=dict)  # column id -> display text
    state: str = "active"  # active / archived / deleted
    parent_id: str | None = None
    subitem_ids: list[str] = field(default_factory=list)


@dataclass
class Cursor:
    board_id: str
    item_ids: list[str]
    offset: int
    expires_at: datetime


class MondayStore:
    def __init__(self, clock) -> None:
        self.clock = clock
        self.boards: dict[str, Board] = {}
        self.items: dict[str, Item] = {}
        self.cursors: dict[str, Cursor] = {}
        self.people: dict[int, str] = {}  # user id -> name, for people columns
        self.max_items_per_board = MAX_ITEMS_PER_BOARD
        self.enforce_item_limit = True  # False: the sandbox's "board_items" limit is off
        self._board_ids = itertools.count(1_800_000_001)
        self._item_ids = itertools.count(2_000_000_001)
        self._group_ids = itertools.count(1)
        self._column_ids = itertools.count(1001)

    # -- boards ------------------------------------------------------------------------------
    def add_board(
        self, name: str, *, columns_: list[dict], groups: list[dict], kind: str = "board"
    ) -> Board:
        cols = [{"id": "name", "title": "Name", "type": "name", "settings": {}}]
        for col in columns_:
            if not {"id", "title", "type"} <= set(col):
                raise ValueError("each column needs id, title and type")
            cols.append(
                {
                    "id": col["id"],
                    "title": col["title"],
                    "type": col["type"],
                    "settings": copy.deepcopy(col.get("settings") or {}),
                }
            )
        grps = [{"id": g["id"], "title": g["title"]} for g in groups] or [
            {"id": "topics", "title": "Group Title"}
        ]
        board = Board(str(next(self._board_ids)), name, cols, grps, kind=kind)
        self.boards[board.id] = board
        return board

    def duplicate_board(self, source: Board, name: str) -> Board:
        """A new board with the source's columns and groups under new ids, and no items; the
        subitems board comes with the first subitem, as on any new board."""
        columns_ = [
            {**copy.deepcopy(c), "id": f"{c['type']}_mk{next(self._column_ids)}"}
            for c in source.columns
            if c["type"] not in ("name", "subtasks")
        ]
        groups = [
            {"id": f"group_mk{next(self._group_ids):04d}", "title": g["title"]}
            for g in source.groups
        ]
        return self.add_board(name, columns_=columns_, groups=groups)

    def board(self, board_id) -> Board:
        board = self.boards.get(str(board_id))
        if board is None:
            raise MondayApiError(
                "InvalidBoardIdException", "Board not found", {"board_id": str(board_id)}
            )
        return board

    def create_group(self, board_id, title: str) -> dict:
        board = self.board(board_id)
        group = {"id": f"group_{next(self._group_ids):04d}", "title": title}
        board.groups.insert(0, group)  # Monday.com adds new groups at the top by default
        return group

    def subitems_board(self, parent: Board) -> Board:
        """The parent's subitems board, created (with its `subtasks` column) on first use."""
        if parent.subitems_board_id:
            return self.boards[parent.subitems_board_id]
        sub = self.add_board(
            f"Subitems of {parent.name}",
            columns_=SUBITEM_COLUMNS,
            groups=[{"id": "topics", "title": "Subitems"}],
            kind="sub_items_board",
        )
        sub.parent_board_id = parent.id
        parent.subitems_board_id = sub.id
        parent.columns.insert(
            1,
            {
                "id": "subitems",
                "title": "Subitems",
                "type": "subtasks",
                "settings": {
                    "allowMultipleItems": True,
                    "itemTypeName": "column.subtasks.title",
                    "displayType": "BOARD_INLINE",
                    "boardIds": [int(sub.id)],
                },
            },
        )
        return sub

    # -- items -------------------------------------------------------------------------------
    def item(self, item_id, *, board: Board | None = None) -> Item:
        item = self.items.get(str(item_id))
        if item is None or item.state == "deleted" or (board and item.board_id != board.id):
            raise MondayApiError(
                "InvalidItemIdException", "Item not found", {"item_id": str(item_id)}
            )
        return item

    def live_items(self, board_id: str) -> list[Item]:
        return [i for i in self.items.values() if i.board_id == board_id and i.state != "deleted"]

    def create_item(
        self,
        board: Board,
        name: str,
        raw_values,
        *,
        group_id: str | None = None,
        create_labels: bool = False,
        parent: Item | None = None,
    ) -> Item:
        _check_name(name)
        values = columns.parse_column_values(raw_values)
        group = board.group(group_id) if group_id else board.groups[0]
        full = len(self.live_items(board.id)) >= self.max_items_per_board
        if full and self.enforce_item_limit:
            # Reference: monday.md "Errors": ItemsLimitationException (board over 10,000 items);
            # a subitems board is a board of its own. Unconfirmed: the message and error_data.
            raise MondayApiError(
                "ItemsLimitationException",
                f"Board has reached the limit of {self.max_items_per_board} items",
                {"board_id": int(board.id)},
            )
        stored, texts, new_columns = self._validate(board, values, create_labels)
        now = self.clock.now()
        item = Item(str(next(self._item_ids)), board.id, group["id"], name, now, now)
        board.columns = new_columns
        self._apply(item, stored, texts)
        self.items[item.id] = item
        if parent is not None:
            item.parent_id = parent.id
            parent.subitem_ids.append(item.id)
            self._refresh_subtasks(parent)
        return item

    def change_values(self, board: Board, item: Item, values: dict, *, create_labels: bool):
        stored, texts, new_columns = self._validate(board, values, create_labels)
        board.columns = new_columns
        self._apply(item, stored, texts)
        item.updated_at = self.clock.now()
        return item

    def _validate(self, board: Board, values: dict, create_labels: bool):
        """Check every value first, so a refused value leaves the item untouched."""
        new_columns = copy.deepcopy(board.columns)
        by_id = {c["id"]: c for c in new_columns}
        stored: dict = {}
        texts: dict = {}
        for column_id, value in values.items():
            if column_id not in by_id:
                board.column(column_id)  # raises InvalidColumnIdException
            column = by_id[column_id]
            if column["type"] == "name":
                if not isinstance(value, str) or not value:
                    raise columns.value_error(column, "name must be a non-empty string")
                _check_name(value)
                stored["name"], texts["name"] = value, value
                continue
            stored[column_id], texts[column_id] = columns.write_value(
                column, value, create_labels=create_labels, people=self.people
            )
        return stored, texts, new_columns

    def _apply(self, item: Item, stored: dict, texts: dict) -> None:
        for column_id, value in stored.items():
            if column_id == "name":
                item.name = value
            elif value is None:
                item.values.pop(column_id, None)
                item.texts.pop(column_id, None)
            else:
                item.values[column_id] = value
                item.texts[column_id] = texts[column_id]

    def _refresh_subtasks(self, parent: Item) -> None:
        live = [self.items[i] for i in parent.subitem_ids if self.items[i].state != "deleted"]
        if live:
            parent.values["subitems"] = {
                "linkedPulseIds": [{"linkedPulseId": int(i.id)} for i in live]
            }
            parent.texts["subitems"] = ", ".join(i.name for i in live)
        else:
            parent.values.pop("subitems", None)
            parent.texts.pop("subitems", None)

    def set_state(self, item: Item, state: str) -> Item:
        """Archive or delete an item; its subitems go with it."""
        item.state = state
        item.updated_at = self.clock.now()
        for sub_id in item.subitem_ids:
            sub = self.items[sub_id]
            if sub.state != "deleted":
                sub.state = state
        if item.parent_id:
            self._refresh_subtasks(self.items[item.parent_id])
        return item

    def move(self, item: Item, group_id: str) -> Item:
        board = self.boards[item.board_id]
        item.group_id = board.group(group_id)["id"]
        item.updated_at = self.clock.now()
        return item

    # -- reading and paging ------------------------------------------------------------------
    def page(self, board: Board, ids: list[str], limit: int) -> tuple[list[Item], str | None]:
        """The first `limit` of `ids`, and a cursor for the rest (None when nothing is left)."""
        _check_limit(limit)
        first, rest = ids[:limit], ids[limit:]
        cursor = None
        if rest:
            cursor = secrets.token_urlsafe(24)
            self.cursors[cursor] = Cursor(board.id, ids, limit, self.clock.now() + CURSOR_LIFETIME)
        return [self.items[i] for i in first], cursor

    def next_page(self, token: str, limit: int) -> tuple[list[Item], str | None]:
        _check_limit(limit)
        cursor = self.cursors.get(token)
        if cursor is None or self.clock.now() >= cursor.expires_at:
            self.cursors.pop(token, None)
            raise MondayApiError(
                "CursorException", "The cursor is invalid or has expired", {"cursor": token[:8]}
            )
        ids = cursor.item_ids[cursor.offset : cursor.offset + limit]
        cursor.offset += limit
        more = cursor.offset < len(cursor.item_ids)
        if not more:
            del self.cursors[token]
        items = [self.items[i] for i in ids if self.items[i].state != "deleted"]
        return items, token if more else None

    def filter_items(
        self, board: Board, *, group_id: str | None = None, query_params: dict | None = None
    ) -> list[str]:
        """Ids of the board's active items in board order, filtered like `items_page`."""
        query_params = query_params or {}
        found = [
            i
            for i in self.live_items(board.id)
            if i.state == "active" and (group_id is None or i.group_id == group_id)
        ]
        if query_params.get("ids"):
            wanted = {str(x) for x in query_params["ids"]}
            found = [i for i in found if i.id in wanted]
        if query_params.get("groups"):
            groups = {g["group_id"] for g in query_params["groups"]}
            found = [i for i in found if i.group_id in groups]
        rules = query_params.get("rules") or []
        operator = query_params.get("operator", "and")
        if rules:
            tests = [self._rule(board, rule) for rule in rules]
            combine = all if operator == "and" else any
            found = [i for i in found if combine(test(i) for test in tests)]
        if query_params.get("order_by"):
            # Unconfirmed code; the sandbox refuses what it cannot honour rather than ignore it.
            raise MondayApiError(
                "InvalidArgumentException", "The sandbox does not support order_by", {}
            )
        return [i.id for i in found]

    def _rule(self, board: Board, rule: dict):
        column_id = rule["column_id"]
        if column_id != "name":
            board.column(column_id)
        wanted = rule.get("compare_value")
        wanted = wanted if isinstance(wanted, list) else [wanted]
        wanted = {str(w) for w in wanted if w is not None}
        operator = rule.get("operator", "any_of")

        def text(item: Item) -> str:
            return item.name if column_id == "name" else item.texts.get(column_id, "")

        tests = {
            "any_of": lambda i: text(i) in wanted,
            "not_any_of": lambda i: text(i) not in wanted,
            "is_empty": lambda i: text(i) == "",
            "is_not_empty": lambda i: text(i) != "",
            "contains_text": lambda i: any(w.lower() in text(i).lower() for w in wanted),
        }
        if operator not in tests:
            raise MondayApiError(
                "InvalidArgumentException",
                f"The sandbox does not support the {operator} operator",
                {"operator": operator},
            )
        return tests[operator]

    def by_column_values(self, board: Board, criteria: list[dict]) -> list[str]:
        """`items_page_by_column_values`: every column matches one of its values (by text)."""
        checks = []
        for crit in criteria:
            column_id = crit["column_id"]
            if column_id != "name":
                board.column(column_id)
            checks.append((column_id, {str(v) for v in crit["column_values"] if v is not None}))
        found = []
        for item in self.live_items(board.id):
            if item.state != "active":
                continue
            texts = {"name": item.name, **item.texts}
            if all(texts.get(cid, "") in vals for cid, vals in checks):
                found.append(item.id)
        return found

    def column_values(self, item: Item) -> dict:
        """{column id: parsed value} for test helpers."""
        return {k: copy.deepcopy(v) for k, v in item.values.items()}


def _check_name(name: str) -> None:
    if len(name) > MAX_ITEM_NAME:
        raise MondayApiError(
            "ItemNameTooLongException",
            f"Item name is too long, maximum length is {MAX_ITEM_NAME} characters",
            {"length": len(name)},
        )


def _check_limit(limit: int) -> None:
    # Unconfirmed: the code Monday.com answers for a page limit above 500; only the cap is known.
    if limit < 1 or limit > MAX_PAGE:
        raise MondayApiError(
            "InvalidArgumentException",
            f"limit must be between 1 and {MAX_PAGE}",
            {"limit": limit},
        )
