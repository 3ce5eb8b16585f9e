"""Subitems: documents' lines kept in step with their items' subitems, keyed by Exact line id.

Many parents' subitems go out together, as aliased `create_subitem` /
`change_multiple_column_values` packed under the same ceiling as items (batching.py). Nothing
is read in steady state: the caller knows each line's subitem id and the subitem board's
columns. Reads happen only where the caller asks: a parent a previous attempt may have
reached (`existing_subitems`), a board's first subitem (`create_first_subitem`, which names
the new subitems board and its columns), a column Monday no longer knows (`board_columns`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from integrations.errors import IntegrationError, ReconnectRequired
from integrations.monday import queries
from integrations.monday.batching import DEFAULT_CEILING, MAX_ALIASES, Operation
from integrations.monday.boards import parse_settings
from integrations.monday.client import MondayClient
from integrations.monday.columns import encode_column_values
from integrations.monday.writes import (
    ItemResult,
    Pending,
    operation_key,
    request_key,
    run_operations,
)

PARENTS_PER_READ = 100  # items(ids:) answers at most 100 items a page


@dataclass(frozen=True)
class SubitemWrite:
    """One document line as a subitem, keyed by the Exact line id (`key_value`).

    `ref` is unique within one call (several parents' lines go out together); `parent_item_id`
    names the parent when the subitem must be created."""

    ref: str
    name: str
    column_values: dict[str, Any]
    subitem_id: str | None = None
    key_column_id: str = ""
    key_value: str = ""
    idempotency_key: str = ""
    create_labels_if_missing: bool = False
    removed: bool = False  # a line gone from Exact: updated (marked) when known, never created
    parent_item_id: str = ""


def board_columns_from(raw: list[dict] | None) -> list[dict]:
    """A board's columns as MondayBoard stores them: {id, title, type, settings}."""
    return [
        {
            "id": str(c["id"]),
            "title": str(c.get("title") or ""),
            "type": str(c.get("type") or ""),
            "settings": parse_settings(c.get("settings_str")),
        }
        for c in raw or []
    ]


def existing_subitems(
    client: MondayClient, parent_item_ids: list[str], key_column: str
) -> tuple[str, dict[str, dict[str, str]]]:
    """(subitem board id or "", {parent id: {key text: subitem id (oldest)}}), read in one
    request per 100 parents."""
    board_id, found = "", {}
    column_ids = [key_column] if key_column else []
    for start in range(0, len(parent_item_ids), PARENTS_PER_READ):
        chunk = parent_item_ids[start : start + PARENTS_PER_READ]
        data = client.execute(
            queries.SUBITEMS_OF_ITEM,
            {"item_ids": chunk, "column_ids": column_ids, "limit": len(chunk)},
        )
        for parent in data.get("items") or []:
            by_key = found.setdefault(str(parent["id"]), {})
            for sub in parent.get("subitems") or []:
                board_id = board_id or str((sub.get("board") or {}).get("id") or "")
                for cv in sub.get("column_values") or []:
                    if cv.get("text"):
                        by_key.setdefault(cv["text"], str(sub["id"]))
    return board_id, found


def create_first_subitem(
    client: MondayClient, write: SubitemWrite
) -> tuple[ItemResult, str, list[dict]]:
    """Create a board's first subitem alone (so Monday makes exactly one subitems board), by
    name only: the columns are not known yet. Returns its result, the new subitems board's
    id and that board's columns."""
    op = Operation(
        "create_subitem",
        {"parent_item_id": write.parent_item_id, "item_name": write.name[:255]},
        ref=write.ref,
    )
    try:
        data = client.execute(
            queries.CREATE_FIRST_SUBITEM,
            {"parent_item_id": write.parent_item_id, "item_name": write.name[:255]},
            # Its own key: the update that follows with the values carries the line's key.
            idempotency_key=request_key(["first", operation_key(op, write.idempotency_key)]),
        )
    except ReconnectRequired:
        raise
    except IntegrationError as err:  # the line's own failure, as a batch would report it
        return ItemResult(write.ref, None, False, err), "", []
    answer = data.get("create_subitem") or {}
    board = answer.get("board") or {}
    result = ItemResult(write.ref, str(answer.get("id") or "") or None, True, None)
    return result, str(board.get("id") or ""), board_columns_from(board.get("columns"))


def board_columns(client: MondayClient, board_id: str) -> list[dict]:
    """A (subitems) board's columns, read again: after a write named a column it lacks."""
    data = client.execute(queries.BOARDS_BY_ID, {"ids": [board_id]})
    boards = data.get("boards") or []
    return board_columns_from(boards[0].get("columns")) if boards else []


def _op(line: SubitemWrite, board_id: str) -> Pending:
    args: dict[str, Any] = {
        "column_values": encode_column_values(line.column_values),
        "create_labels_if_missing": line.create_labels_if_missing,
    }
    if line.subitem_id:
        args.update(board_id=board_id, item_id=line.subitem_id)
        op = Operation("change_multiple_column_values", args, ref=line.ref)
    else:
        args.update(parent_item_id=line.parent_item_id, item_name=line.name[:255])
        op = Operation("create_subitem", args, ref=line.ref)
    return Pending(op, operation_key(op, line.idempotency_key), line.column_values)


def write_subitems(
    client: MondayClient,
    subitem_board_id: str,
    lines: list[SubitemWrite],
    *,
    ceiling: int = DEFAULT_CEILING,
    max_aliases: int = MAX_ALIASES,
) -> dict[str, ItemResult]:
    """Create the lines without a subitem id, update the others, in packed batches; a removed
    line without a subitem is left alone (never created). One ItemResult per ref.

    The caller makes sure the subitems board exists (create_first_subitem) before creating
    several subitems at once. Raises only ReconnectRequired."""
    refs = [line.ref for line in lines]
    if len(set(refs)) != len(refs):
        raise ValueError("Each SubitemWrite needs its own ref")
    results: dict[str, ItemResult] = {}
    pending = []
    for line in lines:
        if line.removed and not line.subitem_id:
            results[line.ref] = ItemResult(line.ref, None, False, None)
        elif line.subitem_id and not line.column_values:
            results[line.ref] = ItemResult(line.ref, line.subitem_id, False, None)
        else:
            pending.append(_op(line, subitem_board_id))
    if pending:
        results.update(run_operations(client, pending, ceiling=ceiling, max_aliases=max_aliases))
    return results


def sync_subitems(
    client: MondayClient,
    parent_item_id: str,
    lines: list[SubitemWrite],
    *,
    ceiling: int = DEFAULT_CEILING,
    max_aliases: int = MAX_ALIASES,
) -> list[ItemResult]:
    """One parent's lines, matched to its existing subitems by id or key column (one read), so
    a retry never adds a second subitem; the first subitem of a board is created alone, and
    then given its values. For callers without stored subitem ids; one ItemResult per line."""
    order = [line.ref for line in lines]
    lines = [
        line if line.parent_item_id else replace(line, parent_item_id=parent_item_id)
        for line in lines
    ]
    key_column = next((ln.key_column_id for ln in lines if ln.key_column_id), "")
    board_id, found = existing_subitems(client, [parent_item_id], key_column)
    by_key = found.get(str(parent_item_id), {})
    lines = [
        ln
        if ln.subitem_id or not by_key.get(ln.key_value)
        else replace(ln, subitem_id=by_key[ln.key_value])
        for ln in lines
    ]
    results: dict[str, ItemResult] = {}
    creates = [ln for ln in lines if not ln.subitem_id and not ln.removed]
    if creates and not board_id:
        first, board_id, _ = create_first_subitem(client, creates[0])
        if first.error is not None or not first.item_id:
            results[first.ref] = first
            lines = [ln for ln in lines if ln.ref != first.ref]
        else:
            lines = [
                replace(ln, subitem_id=first.item_id) if ln is creates[0] else ln for ln in lines
            ]
            results[first.ref] = first
    written = write_subitems(client, board_id, lines, ceiling=ceiling, max_aliases=max_aliases)
    for ref, result in written.items():
        earlier = results.get(ref)
        created = bool(earlier and earlier.created)
        results[ref] = ItemResult(ref, result.item_id, created or result.created, result.error)
    return [results[ref] for ref in order]
