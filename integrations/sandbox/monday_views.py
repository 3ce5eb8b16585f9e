"""Read views of the Monday.com sandbox store, shaped like the schema's types.

graphql-core's default resolver reads attributes of these objects and calls methods with
`(info, **args)`, so each view is a small class over a store record.
"""

from __future__ import annotations

import functools

from graphql import GraphQLError

from integrations.sandbox import monday_columns as columns
from integrations.sandbox.monday_errors import MondayApiError
from integrations.sandbox.monday_schema import typename_for
from integrations.sandbox.monday_store import Board, Item, MondayStore


def reported(func):
    """Turn a MondayApiError into a GraphQLError carrying Monday's extensions."""

    @functools.wraps(func)
    def wrapper(self, info, **kwargs):
        try:
            return func(self, info, **kwargs)
        except MondayApiError as exc:
            raise GraphQLError(
                exc.message, extensions=exc.extensions(info.context.request_id)
            ) from exc

    return wrapper


class ColumnValueView:
    def __init__(self, column: dict, item: Item) -> None:
        self.column = ColumnView(column)
        self.id = column["id"]
        self.type = column["type"]
        self.typename = typename_for(column["type"])
        stored = item.values.get(column["id"])
        self._stored = stored if isinstance(stored, dict) else {}
        self.value = columns.encode_value(stored)
        self.text = item.texts.get(column["id"], "")
        if column["type"] == "numbers" and stored is not None:
            self.number = float(stored)
        if column["type"] == "status" and stored is not None:
            self.label = self.text
            self.index = stored["index"]
        if column["type"] == "link":
            self.url_text = self._stored.get("text")
        self.display_value = self.text

    def __getattr__(self, name: str):
        # Typed fields of the concrete value types (date, time, checked, url, email, ...).
        if name.startswith("_"):
            raise AttributeError(name)
        value = self._stored.get(name)
        if name == "checked":
            return value == "true"
        return value


class ColumnView:
    def __init__(self, column: dict) -> None:
        self.id = column["id"]
        self.title = column["title"]
        self.type = column["type"]
        self.settings_str = columns.settings_str(column)
        self.archived = False
        self.description = None
        self.width = None


class GroupView:
    def __init__(self, store: MondayStore, board: Board, group: dict) -> None:
        self._store, self._board = store, board
        self.id = group["id"]
        self.title = group["title"]
        self.archived = False
        self.deleted = False
        self.color = "#579bfc"
        self.position = str(board.groups.index(group) + 1)

    @reported
    def items_page(self, info, limit=25, cursor=None, query_params=None):
        if cursor:
            items, next_cursor = self._store.next_page(cursor, limit)
        else:
            ids = self._store.filter_items(self._board, group_id=self.id, query_params=query_params)
            items, next_cursor = self._store.page(self._board, ids, limit)
        return {"cursor": next_cursor, "items": [ItemView(self._store, i) for i in items]}


class UserView:
    def __init__(self, user: dict) -> None:
        self.id = user["id"]
        self.name = user["user_name"]
        self.email = user["email"]
        self.enabled = True
        self.is_admin = True
        self.is_guest = False
        self.is_pending = False
        self.is_verified = True
        self.is_view_only = False
        self.url = f"https://sandbox.monday.test/users/{user['id']}"
        self.time_zone_identifier = "Europe/Amsterdam"
        self.account = AccountView(user)


class AccountView:
    def __init__(self, user: dict) -> None:
        self.id = user["account_id"]
        self.name = user["account_name"]
        self.slug = "sandbox-finance"
        self.first_day_of_the_week = "monday"
        self.show_timeline_weekends = False
        self.country_code = "NL"
        self.tier = "enterprise"


class BoardView:
    def __init__(self, store: MondayStore, board: Board, user: dict) -> None:
        self._store, self._board, self._user = store, board, user
        self.id = board.id
        self.name = board.name
        self.board_kind = "public"
        self.state = "active"
        self.type = board.kind
        self.permissions = "everyone"
        self.description = None
        self.items_limit = store.max_items_per_board
        self.url = f"https://sandbox.monday.test/boards/{board.id}"
        self.workspace_id = None
        self.creator = UserView(user)
        self.owners = [self.creator]
        self.subscribers = [self.creator]

    @property
    def items_count(self) -> int:
        return sum(1 for i in self._store.live_items(self._board.id) if i.state == "active")

    @property
    def top_group(self) -> GroupView:
        return GroupView(self._store, self._board, self._board.groups[0])

    def columns(self, info, ids=None, types=None):
        return [
            ColumnView(c)
            for c in self._board.columns
            if (ids is None or c["id"] in ids) and (types is None or c["type"] in types)
        ]

    def groups(self, info, ids=None):
        return [
            GroupView(self._store, self._board, g)
            for g in self._board.groups
            if ids is None or g["id"] in ids
        ]

    @reported
    def items_page(self, info, limit=25, cursor=None, query_params=None):
        if cursor:
            items, next_cursor = self._store.next_page(cursor, limit)
        else:
            ids = self._store.filter_items(self._board, query_params=query_params)
            items, next_cursor = self._store.page(self._board, ids, limit)
        return {"cursor": next_cursor, "items": [ItemView(self._store, i) for i in items]}


class ItemView:
    def __init__(self, store: MondayStore, item: Item) -> None:
        self._store, self._item = store, item
        self.id = item.id
        self.name = item.name
        self.state = item.state
        self.created_at = item.created_at.isoformat()
        self.updated_at = item.updated_at.isoformat()
        self.creator_id = "1"
        self.email = f"pulse-{item.id}@sandbox.monday.test"
        self.url = f"https://sandbox.monday.test/boards/{item.board_id}/pulses/{item.id}"
        self.relative_link = f"/boards/{item.board_id}/pulses/{item.id}"

    @property
    def _board(self) -> Board:
        return self._store.boards[self._item.board_id]

    @property
    def group(self) -> GroupView:
        board = self._board
        return GroupView(self._store, board, board.group(self._item.group_id))

    def board(self, info):
        return BoardView(self._store, self._board, info.context.user)

    def column_values(self, info, ids=None, types=None):
        return [
            ColumnValueView(c, self._item)
            for c in self._board.columns
            if c["type"] != "name"
            and (ids is None or c["id"] in ids)
            and (types is None or c["type"] in types)
        ]

    @property
    def subitems(self):
        found = [self._store.items[i] for i in self._item.subitem_ids]
        return [ItemView(self._store, i) for i in found if i.state != "deleted"]

    @property
    def parent_item(self):
        if self._item.parent_id is None:
            return None
        return ItemView(self._store, self._store.items[self._item.parent_id])
