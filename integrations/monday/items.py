"""Upserting items: create or update, batched, found again by Exact key; one result per write."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from integrations.errors import IntegrationError
from integrations.monday import queries
from integrations.monday.batching import DEFAULT_CEILING, MAX_ALIASES, Operation
from integrations.monday.client import MondayClient
from integrations.monday.columns import encode_column_values
from integrations.monday.errors import MondayColumnError
from integrations.monday.subitems import SubitemWrite, sync_subitems
from integrations.monday.writes import ItemResult, Pending, operation_key, run_operations

__all__ = [
    "ItemResult",
    "ItemWrite",
    "SubitemWrite",
    "find_items_by_key",
    "idempotency_key_for",
    "read_board_items",
    "sync_subitems",
    "upsert_items",
]

logger = logging.getLogger(__name__)

LOOKUP_CHUNK = 100  # key values per items_page_by_column_values call
PAGE_LIMIT = 500  # Monday's largest items page


@dataclass(frozen=True)
class ItemWrite:
    ref: str
    board_id: str
    group_id: str
    name: str
    column_values: dict[str, Any]
    item_id: str | None = None
    key_column_id: str = ""
    key_value: str = ""
    idempotency_key: str = ""
    create_labels_if_missing: bool = False


def idempotency_key_for(route_id: Any, exact_key: str, content_hash: str) -> str:
    """Stable per write: the same route, record and content always give the same key."""
    digest = hashlib.sha256(f"{route_id}|{exact_key}|{content_hash}".encode()).hexdigest()
    return f"mlc-{digest[:40]}"


def find_items_by_key(
    client: MondayClient, board_id: str, column_id: str, values: list[str]
) -> dict[str, str]:
    """Existing items whose `column_id` holds one of `values`: {value: item id (oldest)}."""
    found: dict[str, str] = {}
    wanted = set(values)
    for start in range(0, len(values), LOOKUP_CHUNK):
        chunk = values[start : start + LOOKUP_CHUNK]
        # Reference: https://developer.monday.com/api-reference/reference/items-page-by-column-values
        data = client.execute(
            queries.FIND_ITEMS_BY_COLUMN_VALUES,
            {"board_id": board_id, "column_id": column_id, "values": chunk, "limit": PAGE_LIMIT},
        )
        page = data.get("items_page_by_column_values") or {}
        while True:
            for item in page.get("items") or []:
                texts = [cv.get("text") for cv in item.get("column_values") or []]
                for text in texts:
                    if text in wanted and (text not in found or int(item["id"]) < int(found[text])):
                        found[text] = str(item["id"])
            if not page.get("cursor"):
                break
            data = client.execute(
                queries.NEXT_ITEMS_PAGE,
                {"cursor": page["cursor"], "limit": PAGE_LIMIT, "column_ids": [column_id]},
            )
            page = data.get("next_items_page") or {}
    return found


def _lookup(client: MondayClient, writes: list[ItemWrite]) -> dict[tuple[str, str, str], str]:
    groups: dict[tuple[str, str], list[str]] = {}
    for w in writes:
        if not w.item_id and w.key_column_id and w.key_value:
            groups.setdefault((w.board_id, w.key_column_id), []).append(w.key_value)
    found: dict[tuple[str, str, str], str] = {}
    for (board_id, column_id), values in groups.items():
        unique = list(dict.fromkeys(values))
        for value, item_id in find_items_by_key(client, board_id, column_id, unique).items():
            found[(board_id, column_id, value)] = item_id
    return found


def _item_op(w: ItemWrite, item_id: str | None) -> Pending:
    encoded = encode_column_values(w.column_values)
    if item_id:
        op = Operation(
            "change_multiple_column_values",
            {
                "board_id": w.board_id,
                "item_id": item_id,
                "column_values": encoded,
                "create_labels_if_missing": w.create_labels_if_missing,
            },
            ref=w.ref,
        )
    else:
        args = {
            "board_id": w.board_id,
            "item_name": w.name[:255],
            "column_values": encoded,
            "create_labels_if_missing": w.create_labels_if_missing,
        }
        if w.group_id:
            args["group_id"] = w.group_id
        op = Operation("create_item", args, ref=w.ref)
    return Pending(op, operation_key(op, w.idempotency_key), w.column_values)


def upsert_items(
    client: MondayClient,
    writes: list[ItemWrite],
    *,
    ceiling: int = DEFAULT_CEILING,
    max_aliases: int = MAX_ALIASES,
) -> list[ItemResult]:
    """Create or update each write; one ItemResult per write, in order.

    Create vs update is decided by `item_id`; without it, an item already carrying the write's
    key in `key_column_id` is found and updated, so no duplicate is created. Errors come back
    per write; only ReconnectRequired (the token was rejected) is raised. Idempotent.
    """
    refs = [w.ref for w in writes]
    if len(set(refs)) != len(refs):
        raise ValueError("Each ItemWrite needs its own ref")
    found = _lookup(client, writes)
    pending: list[Pending] = []
    first_by_key: dict[tuple[str, str, str], str] = {}
    superseded: dict[str, str] = {}
    for w in writes:
        key = (w.board_id, w.key_column_id, w.key_value)
        item_id = w.item_id or found.get(key)
        if not item_id and w.key_value:
            # Two writes of one record in one call: the later one wins, one item is created.
            if key in first_by_key:
                superseded[first_by_key[key]] = w.ref
                pending = [p for p in pending if p.op.ref != first_by_key[key]]
            first_by_key[key] = w.ref
        pending.append(_item_op(w, item_id))
    results = run_operations(client, pending, ceiling=ceiling, max_aliases=max_aliases)
    _name_columns(client, results.values(), {w.ref: w.board_id for w in writes})
    for old, new in superseded.items():
        while new in superseded:  # three writes of one record: follow to the last
            new = superseded[new]
        results[old] = replace(results[new], ref=old, created=False)
    return [results[ref] for ref in refs]


def _name_columns(
    client: MondayClient, results: Iterable[ItemResult], boards: dict[str, str]
) -> None:
    """Give column errors their column's title, so the admin reads the column's title, not its id."""
    failed = [r for r in results if isinstance(r.error, MondayColumnError)]
    board_ids = sorted({boards[r.ref] for r in failed if boards.get(r.ref)})
    if not board_ids:
        return
    try:
        data = client.execute(queries.BOARDS_BY_ID, {"ids": board_ids})
    except IntegrationError:
        return  # the column id stands in for the title
    titles = {
        (str(b["id"]), str(c["id"])): str(c.get("title") or "")
        for b in data.get("boards") or []
        for c in b.get("columns") or []
    }
    for r in failed:
        r.error.column_title = titles.get((boards.get(r.ref, ""), r.error.column_id), "")


def read_board_items(
    client: MondayClient, board_id: str, column_ids: list[str] | None = None
) -> list[dict[str, Any]]:
    """Every item of a board with the asked column values ({id, name, column_values})."""
    variables = {"board_id": board_id, "limit": PAGE_LIMIT, "column_ids": column_ids}
    data = client.execute(queries.BOARD_ITEMS_PAGE, variables)
    boards = data.get("boards") or []
    page = boards[0].get("items_page") if boards else {}
    items: list[dict[str, Any]] = []
    while page:
        items.extend(page.get("items") or [])
        if not page.get("cursor"):
            break
        data = client.execute(
            queries.NEXT_ITEMS_PAGE,
            {"cursor": page["cursor"], "limit": PAGE_LIMIT, "column_ids": column_ids},
        )
        page = data.get("next_items_page") or {}
    return items
