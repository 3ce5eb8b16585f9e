"""Upserting items and subitems: create or update, batched, one result per write."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from integrations.errors import IntegrationError, ReconnectRequired, UnexpectedResponse
from integrations.monday import queries
from integrations.monday.batching import (
    DEFAULT_CEILING,
    MAX_ALIASES,
    Operation,
    alias,
    build_document,
    pack,
)
from integrations.monday.client import MondayClient
from integrations.monday.columns import encode_column_values
from integrations.monday.errors import ComplexityExceeded, MondayColumnError

logger = logging.getLogger(__name__)

LOOKUP_CHUNK = 100  # key values per items_page_by_column_values call
PAGE_LIMIT = 500  # Monday's largest items page
MAX_ROUNDS = 3  # first attempt + retries of alias-level retryable errors


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


@dataclass(frozen=True)
class ItemResult:
    ref: str
    item_id: str | None
    created: bool
    error: IntegrationError | None


def idempotency_key_for(route_id: Any, exact_key: str, content_hash: str) -> str:
    """Stable per write: the same route, record and content always give the same key."""
    digest = hashlib.sha256(f"{route_id}|{exact_key}|{content_hash}".encode()).hexdigest()
    return f"mlc-{digest[:40]}"


def _op_key(op: Operation, given: str) -> str:
    if given:
        return given
    blob = json.dumps([op.field, op.args], sort_keys=True, default=str)
    return "mlc-" + hashlib.sha256(blob.encode()).hexdigest()[:40]


def _request_key(keys: Iterable[str]) -> str:
    return "mlc-b-" + hashlib.sha256("|".join(keys).encode()).hexdigest()[:40]


def _label_in(value: Any) -> str:
    if isinstance(value, dict):
        label = value.get("label") or value.get("labels")
        if isinstance(label, list):
            return ", ".join(str(x) for x in label)
        return str(label or "")
    return ""


@dataclass(frozen=True)
class _Pending:
    op: Operation
    key: str
    column_values: dict[str, Any]


def _run(
    client: MondayClient, pending: list[_Pending], *, ceiling: int, max_aliases: int
) -> dict[str, ItemResult]:
    """Send ops in packed batches; retry only alias errors that are retryable."""
    results: dict[str, ItemResult] = {}
    todo = pending
    for round_no in range(MAX_ROUNDS):
        retry: list[_Pending] = []
        by_op = {id(p.op): p for p in todo}
        for batch in pack([p.op for p in todo], ceiling=ceiling, max_aliases=max_aliases):
            outcome = _send(client, [by_op[id(op)] for op in batch])
            for p in (by_op[id(op)] for op in batch):
                result = outcome[p.op.ref]
                results[p.op.ref] = result
                # Only an alias Monday failed alone is resent: request-level failures were
                # already retried by the client and would only fail again.
                error = result.error
                if error is not None and error.retryable and getattr(error, "alias", ""):
                    retry.append(p)
        if not retry or round_no == MAX_ROUNDS - 1:
            break
        logger.info("monday.items.retrying", extra={"count": len(retry), "round": round_no + 1})
        todo = retry
    return results


def _send(client: MondayClient, batch: list[_Pending]) -> dict[str, ItemResult]:
    document, variables = build_document([p.op for p in batch])
    try:
        result = client.execute_partial(
            document, variables, idempotency_key=_request_key(p.key for p in batch)
        )
    except ReconnectRequired:
        raise
    except ComplexityExceeded as err:
        if len(batch) == 1:
            return {batch[0].op.ref: ItemResult(batch[0].op.ref, None, False, err)}
        half = len(batch) // 2
        return {**_send(client, batch[:half]), **_send(client, batch[half:])}
    except IntegrationError as err:
        return {p.op.ref: ItemResult(p.op.ref, None, False, err) for p in batch}
    errors = {e.alias: e for e in result.alias_errors if getattr(e, "alias", "")}
    out: dict[str, ItemResult] = {}
    for index, p in enumerate(batch):
        name = alias(index)
        answer = result.data.get(name)
        created = p.op.field in ("create_item", "create_subitem")
        if isinstance(answer, dict) and answer.get("id"):
            out[p.op.ref] = ItemResult(p.op.ref, str(answer["id"]), created, None)
            continue
        error = errors.get(name) or UnexpectedResponse("Monday.com returned no item for it.")
        if isinstance(error, MondayColumnError) and not error.label:
            error.label = _label_in(p.column_values.get(error.column_id))
        item_id = p.op.args.get("item_id")
        out[p.op.ref] = ItemResult(p.op.ref, str(item_id) if item_id else None, False, error)
    return out


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


def _item_op(w: ItemWrite, item_id: str | None) -> _Pending:
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
    return _Pending(op, _op_key(op, w.idempotency_key), w.column_values)


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
    pending: list[_Pending] = []
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
    results = _run(client, pending, ceiling=ceiling, max_aliases=max_aliases)
    _name_columns(client, results.values(), {w.ref: w.board_id for w in writes})
    for old, new in superseded.items():
        while new in superseded:  # three writes of one record: follow to the last
            new = superseded[new]
        results[old] = replace(results[new], ref=old, created=False)
    return [results[ref] for ref in refs]


def _name_columns(
    client: MondayClient, results: Iterable[ItemResult], boards: dict[str, str]
) -> None:
    """Give column errors their column's title, so the admin reads "Column *Cost center* ..."."""
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


def _subitem_op(parent: str, line: SubitemWrite, sub_id: str | None, board: str) -> _Pending:
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
    return _Pending(op, _op_key(op, line.idempotency_key), line.column_values)


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
        outcome = _send(client, [first])
        results.update(outcome)
        creates = creates[1:]
        board_id = (
            _subitem_board_of(client, parent_item_id) if not outcome[first.op.ref].error else ""
        )
    pending = [_subitem_op(parent_item_id, ln, None, board_id) for ln in creates]
    pending += [_subitem_op(parent_item_id, ln, sid, board_id) for ln, sid in updates]
    results.update(_run(client, pending, ceiling=ceiling, max_aliases=max_aliases))
    return [results[ln.ref] for ln in lines]


def _subitem_board_of(client: MondayClient, parent_item_id: str) -> str:
    board_id, _ = _existing_subitems(client, parent_item_id, [])
    return board_id


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
