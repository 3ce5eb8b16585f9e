"""Board discovery: boards, groups and columns (with parsed settings), cached as MondayBoard rows."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from integrations.errors import UnexpectedResponse
from integrations.models import ColumnRole
from integrations.monday import queries
from integrations.monday.client import MondayClient
from integrations.monday.columns import BoardColumn

if TYPE_CHECKING:
    from integrations.models import MondayBoard, MondayConnection

logger = logging.getLogger(__name__)

BOARDS_PAGE_SIZE = 50
MAX_BOARD_PAGES = 40  # 2,000 boards: a page cap, so a runaway listing ends

# Which column types may play each role on a route (the admin offers only these).
ROLE_COLUMN_TYPES: dict[str, frozenset[str]] = {
    ColumnRole.DATE: frozenset({"date"}),
    ColumnRole.AMOUNT: frozenset({"numbers"}),
    ColumnRole.AMOUNT_DC: frozenset({"numbers"}),
    ColumnRole.CURRENCY: frozenset({"text", "dropdown", "status"}),
    ColumnRole.ACCOUNT: frozenset({"text", "long_text", "dropdown"}),
    ColumnRole.GL_ACCOUNT: frozenset({"text", "dropdown", "status"}),
    ColumnRole.COST_CENTER: frozenset({"text", "dropdown", "status"}),
    ColumnRole.EXACT_NUMBER: frozenset({"text", "numbers"}),
    ColumnRole.EXACT_KEY: frozenset({"text"}),
    ColumnRole.STATUS: frozenset({"status", "dropdown", "text"}),
    ColumnRole.REVIEW_FLAG: frozenset({"status", "checkbox"}),
    ColumnRole.EXACT_LINK: frozenset({"link"}),
    ColumnRole.DESCRIPTION: frozenset({"text", "long_text"}),
    ColumnRole.DIVISION: frozenset({"text", "dropdown", "status", "numbers"}),
}


@dataclass(frozen=True)
class BoardGroup:
    id: str
    title: str


@dataclass(frozen=True)
class BoardInfo:
    id: str
    name: str
    columns: tuple[BoardColumn, ...]
    groups: tuple[BoardGroup, ...]
    subitem_board_id: str = ""
    subitem_columns: tuple[BoardColumn, ...] = ()


def parse_settings(settings_str: str | None) -> dict[str, Any]:
    """Column settings_str is JSON text; anything unreadable counts as no settings."""
    try:
        value = json.loads(settings_str or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _columns(raw: list[dict]) -> tuple[BoardColumn, ...]:
    return tuple(
        BoardColumn(
            id=str(c["id"]),
            title=str(c.get("title") or ""),
            type=str(c.get("type") or ""),
            settings=parse_settings(c.get("settings_str")),
        )
        for c in raw or []
    )


def _subitem_board_id(columns: tuple[BoardColumn, ...]) -> str:
    for column in columns:
        if column.type == "subtasks":
            ids = column.settings.get("boardIds") or []
            if ids:
                return str(ids[0])
    return ""


def list_boards(client: MondayClient) -> list[BoardInfo]:
    """Every active board the token can see (subitem boards folded into their parents)."""
    raw: list[dict] = []
    for page in range(1, MAX_BOARD_PAGES + 1):
        # Reference: https://developer.monday.com/api-reference/reference/boards
        data = client.execute(queries.BOARDS_PAGE, {"page": page, "limit": BOARDS_PAGE_SIZE})
        batch = data.get("boards") or []
        raw.extend(b for b in batch if b)
        if len(batch) < BOARDS_PAGE_SIZE:
            break
    by_id = {str(b["id"]): b for b in raw}
    boards = []
    for b in raw:
        if b.get("type") == "sub_items_board":
            continue
        columns = _columns(b.get("columns"))
        sub_id = _subitem_board_id(columns)
        sub = by_id.get(sub_id)
        if sub_id and sub is None:
            found = client.execute(queries.BOARDS_BY_ID, {"ids": [sub_id]}).get("boards") or []
            sub = found[0] if found else None
        boards.append(
            BoardInfo(
                id=str(b["id"]),
                name=str(b.get("name") or ""),
                columns=columns,
                groups=tuple(
                    BoardGroup(str(g["id"]), str(g.get("title") or ""))
                    for g in b.get("groups") or []
                ),
                subitem_board_id=sub_id,
                subitem_columns=_columns(sub.get("columns")) if sub else (),
            )
        )
    return boards


def cache_board(conn: MondayConnection, info: BoardInfo, *, now=None) -> MondayBoard:
    """Store one board's shape as its MondayBoard row (created or replaced)."""
    from integrations.models import MondayBoard

    board, _ = MondayBoard.objects.update_or_create(
        connection=conn,
        board_id=info.id,
        defaults={
            "name": info.name[:255],
            "columns": [asdict(c) for c in info.columns],
            "groups": [asdict(g) for g in info.groups],
            "subitem_board_id": info.subitem_board_id,
            "subitem_columns": [asdict(c) for c in info.subitem_columns],
            "refreshed_at": now or timezone.now(),
        },
    )
    return board


def _board_info(raw: dict) -> BoardInfo:
    columns = _columns(raw.get("columns"))
    return BoardInfo(
        id=str(raw["id"]),
        name=str(raw.get("name") or ""),
        columns=columns,
        groups=tuple(
            BoardGroup(str(g["id"]), str(g.get("title") or "")) for g in raw.get("groups") or []
        ),
        subitem_board_id=_subitem_board_id(columns),
    )


def read_board(client: MondayClient, board_id: str) -> BoardInfo | None:
    """One board's columns and groups (None when the token cannot see it)."""
    found = client.execute(queries.BOARDS_BY_ID, {"ids": [board_id]}).get("boards") or []
    return _board_info(found[0]) if found and found[0] else None


def duplicate_board(client: MondayClient, board_id: str, name: str) -> tuple[BoardInfo, bool]:
    """A new board with the structure (columns, groups) of `board_id` and no items.

    Returns its shape and whether Monday copies it in the background (is_async: the columns
    may not all be there yet; read them again with read_board). Not idempotent: each call
    makes a board, so callers hold a lock and record the new board at once.
    """
    # Reference: monday-schema.graphql Mutation.duplicate_board, DuplicateBoardType.
    data = client.execute(queries.DUPLICATE_BOARD, {"board_id": board_id, "board_name": name})
    result = data.get("duplicate_board") or {}
    if not (result.get("board") or {}).get("id"):
        raise UnexpectedResponse("Monday.com did not say which board it made as the copy.")
    return _board_info(result["board"]), bool(result.get("is_async"))


def refresh_boards(conn: MondayConnection) -> int:
    """Service: re-read the connection's boards into MondayBoard rows; returns how many.

    Boards no longer visible are removed from the cache (routes keep their board id and show
    the board as missing). Raises the client's errors; the caller marks the connection.
    """
    import audit
    from integrations.models import MondayBoard
    from integrations.monday.client import for_connection

    boards = list_boards(for_connection(conn))
    now = timezone.now()
    with transaction.atomic():
        for info in boards:
            cache_board(conn, info, now=now)
        stale = MondayBoard.objects.filter(connection=conn).exclude(
            board_id__in=[b.id for b in boards]
        )
        removed = stale.count()
        stale.delete()
        audit.record(
            "monday.boards.refreshed",
            obj=conn,
            after={"boards": len(boards), "removed": removed},
            message=f"{len(boards)} board{'' if len(boards) == 1 else 's'} read from Monday.com.",
        )
    logger.info("monday.boards.refreshed", extra={"connection_id": conn.pk, "count": len(boards)})
    return len(boards)


def compatible_columns(board: MondayBoard, role: str) -> list[tuple[str, str]]:
    """(id, title) of the board's columns whose type may play `role`, in board order."""
    allowed = ROLE_COLUMN_TYPES.get(role, frozenset())
    return [(c["id"], c.get("title") or c["id"]) for c in board.columns if c.get("type") in allowed]


def column_titles(board: MondayBoard | None) -> dict[str, str]:
    """{column id: title} of a cached board, for admin sentences."""
    if board is None:
        return {}
    return {c["id"]: c.get("title") or c["id"] for c in [*board.columns, *board.subitem_columns]}
