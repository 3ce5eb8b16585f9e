"""Subitems: a document's lines kept in step with its item's subitems, keyed by Exact line id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integrations.monday import queries
from integrations.monday.batching import DEFAULT_CEILING, MAX_ALIASES, Operation
from integrations.monday.client import MondayClient
from integrations.monday.columns import encode_column_values
from integrations.monday.writes import (
    ItemResult,
    Pending,
    operation_key,
    run_operations,
    send_batch,
)


@dataclass(frozen=True)
class SubitemWrite:
    """One document line as a subitem, keyed by the Exact line id (`ref`, also `key_value`)."""

    ref: str
    name: str
    column_values: dict[str, Any]
    subitem_id: str | None = None
    key_column_id: str = ""
    key_value: str = ""
    idempotency_key: str = ""
    create_labels_if_missing: bool = False
    removed: bool = False  # a line gone from Exact: updated (marked) when known, never created


def _existing_subitems(
    client: MondayClient, parent_item_id: str, key_columns: list[str]
) -> tuple[str, dict[str, str]]:
    """(subitem board id or "", {key text: subitem id}) for a parent item."""
    data = client.execute(
        queries.SUBITEMS_OF_ITEM, {"item_ids": [parent_item_id], "column_ids": key_columns}
    )
    parents = data.get("items") or []
    board_id, by_key = "", {}
    for sub in (parents[0].get("subitems") or []) if parents else []:
        board_id = board_id or str((sub.get("board") or {}).get("id") or "")
        for cv in sub.get("column_values") or []:
            if cv.get("text"):
                by_key.setdefault(cv["text"], str(sub["id"]))
    return board_id, by_key


def _subitem_op(parent: str, line: SubitemWrite, sub_id: str | None, board: str) -> Pending:
    args: dict[str, Any] = {
        "column_values": encode_column_values(line.column_values),
        "create_labels_if_missing": line.create_labels_if_missing,
    }
    if sub_id:
        args.update(board_id=board, item_id=sub_id)
        op = Operation("change_multiple_column_values", args, ref=line.ref)
    else:
        args.update(parent_item_id=parent, item_name=line.name[:255])
        op = Operation("create_subitem", args, ref=line.ref)
    return Pending(op, operation_key(op, line.idempotency_key), line.column_values)


def sync_subitems(
    client: MondayClient,
    parent_item_id: str,
    lines: list[SubitemWrite],
    *,
    ceiling: int = DEFAULT_CEILING,
    max_aliases: int = MAX_ALIASES,
) -> list[ItemResult]:
    """Keep a parent's subitems in step with its lines; one ItemResult per line, in order.

    Lines are matched to existing subitems by id or by their key column, so a retry never adds
    a second subitem. New lines are created, known ones updated, removed ones updated with the
    marker values the caller put in `column_values` (never created). When the board has no
    subitem board yet, the first subitem is created alone so Monday creates exactly one.
    """
    key_columns = sorted({ln.key_column_id for ln in lines if ln.key_column_id})
    board_id, by_key = _existing_subitems(client, parent_item_id, key_columns)
    results: dict[str, ItemResult] = {}
    updates: list[tuple[SubitemWrite, str]] = []
    creates: list[SubitemWrite] = []
    for line in lines:
        sub_id = line.subitem_id or (by_key.get(line.key_value) if line.key_value else None)
        if sub_id:
            updates.append((line, sub_id))
        elif line.removed:
            results[line.ref] = ItemResult(line.ref, None, False, None)
        else:
            creates.append(line)
    if creates and not board_id:
        first = _subitem_op(parent_item_id, creates[0], None, "")
        outcome = send_batch(client, [first])
        results.update(outcome)
        creates = creates[1:]
        board_id = (
            _subitem_board_of(client, parent_item_id) if not outcome[first.op.ref].error else ""
        )
    pending = [_subitem_op(parent_item_id, ln, None, board_id) for ln in creates]
    pending += [_subitem_op(parent_item_id, ln, sid, board_id) for ln, sid in updates]
    results.update(run_operations(client, pending, ceiling=ceiling, max_aliases=max_aliases))
    return [results[ln.ref] for ln in lines]


def _subitem_board_of(client: MondayClient, parent_item_id: str) -> str:
    board_id, _ = _existing_subitems(client, parent_item_id, [])
    return board_id
