"""GraphQL execution for the Monday.com sandbox: the root value of queries and mutations.

Each root field the product uses is a method here; the objects it returns are the views of
monday_views. Errors raised as `MondayApiError` become GraphQL errors whose `path` names the failing field
(the alias), so aliased mutations fail one by one, as on Monday.com.
"""

from __future__ import annotations

from graphql import GraphQLError

from integrations.sandbox import monday_columns as columns
from integrations.sandbox.monday_errors import MondayApiError
from integrations.sandbox.monday_store import MondayStore
from integrations.sandbox.monday_views import (
    AccountView,
    BoardView,
    GroupView,
    ItemView,
    UserView,
    reported,
)

MAX_ITEM_IDS = 100


class RequestContext:
    """What resolvers need about the request: the store, the caller and the complexity."""

    def __init__(self, store: MondayStore, user: dict, request_id: str, complexity: dict):
        self.store = store
        self.user = user
        self.request_id = request_id
        self.complexity = complexity


def _page_slice(rows: list, limit: int | None, page: int | None) -> list:
    if limit is None:
        return rows
    start = (max(page or 1, 1) - 1) * limit
    return rows[start : start + limit]


class Root:
    """Root value for queries and mutations: one method per operation the product uses.

    A valid field the sandbox does not implement is answered with an error, never a silent null.
    """

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)

        def unsupported(info, **_args):
            raise GraphQLError(
                f"The Monday.com sandbox does not implement {name}",
                extensions={"code": "SANDBOX_NOT_IMPLEMENTED", "status_code": 200},
            )

        return unsupported

    # -- queries -----------------------------------------------------------------------------
    def me(self, info):
        return UserView(info.context.user)

    def account(self, info):
        return AccountView(info.context.user)

    def complexity(self, info):
        return info.context.complexity

    def boards(self, info, ids=None, limit=25, page=1, **_filters):
        store = info.context.store
        wanted = None if ids is None else {str(i) for i in ids}
        rows = [b for b in store.boards.values() if wanted is None or b.id in wanted]
        return [BoardView(store, b, info.context.user) for b in _page_slice(rows, limit, page)]

    @reported
    def items(self, info, ids=None, limit=25, page=1, exclude_nonactive=None, **_):
        store = info.context.store
        if ids is not None and len(ids) > MAX_ITEM_IDS:
            # Unconfirmed code; the reference says only that items(ids:) takes at most 100 ids.
            raise MondayApiError(
                "InvalidArgumentException",
                f"items(ids:) takes at most {MAX_ITEM_IDS} ids",
                {"ids": len(ids)},
            )
        if ids is None:
            rows = [i for i in store.items.values() if i.state != "deleted"]
            rows = _page_slice(rows, limit, page)
        else:
            rows = [store.items[str(i)] for i in ids if str(i) in store.items]
            rows = [i for i in rows if i.state != "deleted"]
        if exclude_nonactive:
            rows = [i for i in rows if i.state == "active"]
        return [ItemView(store, i) for i in rows]

    @reported
    def items_page_by_column_values(self, info, board_id, limit=25, columns=None, cursor=None):
        store = info.context.store
        if cursor:
            items, next_cursor = store.next_page(cursor, limit)
        else:
            board = store.board(board_id)
            ids = store.by_column_values(board, columns or [])
            items, next_cursor = store.page(board, ids, limit)
        return {"cursor": next_cursor, "items": [ItemView(store, i) for i in items]}

    @reported
    def next_items_page(self, info, cursor, limit=25):
        store = info.context.store
        items, next_cursor = store.next_page(cursor, limit)
        return {"cursor": next_cursor, "items": [ItemView(store, i) for i in items]}

    # -- mutations ---------------------------------------------------------------------------
    @reported
    def create_item(self, info, board_id, item_name, column_values=None, group_id=None, **kwargs):
        store = info.context.store
        board = store.board(board_id)
        if board.kind == "sub_items_board":
            raise MondayApiError(
                "InvalidBoardIdException",
                "Use create_subitem to add items to a subitems board",
                {"board_id": board.id},
            )
        item = store.create_item(
            board,
            item_name,
            column_values,
            group_id=group_id,
            create_labels=bool(kwargs.get("create_labels_if_missing")),
        )
        return ItemView(store, item)

    @reported
    def create_subitem(
        self, info, parent_item_id, item_name, column_values=None, create_labels_if_missing=None
    ):
        store = info.context.store
        parent = store.item(parent_item_id)
        parent_board = store.boards[parent.board_id]
        if parent_board.kind == "sub_items_board":
            raise MondayApiError(
                "InvalidItemIdException",
                "A subitem cannot have subitems",
                {"item_id": parent.id},
            )
        # Unconfirmed: whether Monday.com keeps the subitems board when the first subitem is
        # refused; here the board is created by the attempt, as its columns must exist first.
        sub_board = store.subitems_board(parent_board)
        item = store.create_item(
            sub_board,
            item_name,
            column_values,
            create_labels=bool(create_labels_if_missing),
            parent=parent,
        )
        return ItemView(store, item)

    @reported
    def change_multiple_column_values(
        self, info, board_id, column_values, item_id=None, create_labels_if_missing=None
    ):
        store = info.context.store
        board = store.board(board_id)
        item = store.item(item_id, board=board)
        values = columns.parse_column_values(column_values)
        store.change_values(board, item, values, create_labels=bool(create_labels_if_missing))
        return ItemView(store, item)

    @reported
    def change_column_value(
        self, info, board_id, column_id, value, item_id=None, create_labels_if_missing=None
    ):
        store = info.context.store
        board = store.board(board_id)
        item = store.item(item_id, board=board)
        parsed = columns.parse_json_value(value)
        store.change_values(
            board, item, {column_id: parsed}, create_labels=bool(create_labels_if_missing)
        )
        return ItemView(store, item)

    @reported
    def change_simple_column_value(
        self, info, board_id, column_id, item_id=None, value=None, create_labels_if_missing=None
    ):
        store = info.context.store
        board = store.board(board_id)
        item = store.item(item_id, board=board)
        column = board.column(column_id)
        store.change_values(
            board,
            item,
            {column_id: columns.simple_to_json(column, value)},
            create_labels=bool(create_labels_if_missing),
        )
        return ItemView(store, item)

    @reported
    def archive_item(self, info, item_id=None):
        store = info.context.store
        return ItemView(store, store.set_state(store.item(item_id), "archived"))

    @reported
    def delete_item(self, info, item_id=None):
        store = info.context.store
        return ItemView(store, store.set_state(store.item(item_id), "deleted"))

    @reported
    def move_item_to_group(self, info, group_id, item_id=None):
        store = info.context.store
        return ItemView(store, store.move(store.item(item_id), group_id))

    @reported
    def create_group(self, info, board_id, group_name, **_position):
        store = info.context.store
        board = store.board(board_id)
        return GroupView(store, board, store.create_group(board.id, group_name))

    @reported
    def duplicate_board(self, info, board_id, duplicate_type, board_name=None, **_where):
        """Structure only: columns (settings, labels) and groups, no items.

        # Unconfirmed: whether Monday.com keeps column and group ids on a duplicate; the
        # sandbox gives new ones, so the product must match columns by title and type.
        """
        store = info.context.store
        if duplicate_type != "duplicate_board_with_structure":
            raise MondayApiError(
                "InvalidArgumentException",
                f"The sandbox duplicates boards with their structure only, not {duplicate_type}",
                {"duplicate_type": duplicate_type},
            )
        source = store.board(board_id)
        if source.kind == "sub_items_board":
            raise MondayApiError(
                "InvalidBoardIdException", "A subitems board cannot be duplicated", {}
            )
        copy = store.duplicate_board(source, board_name or f"Duplicate of {source.name}")
        return {"board": BoardView(store, copy, info.context.user), "is_async": False}
