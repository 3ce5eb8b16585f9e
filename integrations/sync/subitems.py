"""Line items as subitems: each Exact line kept in step with one subitem, by its line id.

All records of one write go out together (monday/subitems.write_subitems packs them under the
complexity ceiling). In steady state nothing is read: the subitem ids live in SyncedLine, the
subitems board and its columns on MondayBoard (found once per board, again when Monday says a
column is unknown).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from integrations.models import MondayBoard, SyncedLine, SyncedRecord
from integrations.monday import subitems as monday_subitems
from integrations.monday.columns import encode_for_column
from integrations.monday.errors import MondayColumnError
from integrations.monday.items import SubitemWrite, idempotency_key_for

logger = logging.getLogger(__name__)
REMOVED_LABEL = "Removed in Exact"


@dataclass
class _Line:
    """One line to write: the record it belongs to and its stored row, if any."""

    rec: SyncedRecord
    exact_line_id: str
    name: str
    content_hash: str
    amount: object
    subitem_id: str = ""
    removed: bool = False
    created: bool = False  # created earlier in this sync (a fresh board's first subitem)

    @property
    def ref(self) -> str:
        return f"{self.rec.pk}:{self.exact_line_id}"


def _board(rec: SyncedRecord) -> MondayBoard | None:
    return MondayBoard.objects.filter(
        connection=rec.route.monday_connection,
        board_id=rec.monday_board_id or rec.route.board_id,
    ).first()


def _by_type(subitem_columns) -> dict[str, dict]:
    """The subitem board's columns by type: the first text (line id), numbers (amount) and
    status (removed marker)."""
    by_type: dict[str, dict] = {}
    for column in subitem_columns or []:
        by_type.setdefault(column.get("type", ""), column)
    return by_type


def _values(columns: dict[str, dict], line: _Line) -> dict:
    values = {}
    if "text" in columns:
        values[columns["text"]["id"]] = line.exact_line_id
    if "numbers" in columns and line.amount is not None:
        encoded = encode_for_column(columns["numbers"], line.amount, create_labels=False)
        if encoded.value is not None:
            values[columns["numbers"]["id"]] = encoded.value
    if line.removed and "status" in columns:
        encoded = encode_for_column(columns["status"], REMOVED_LABEL, create_labels=True)
        if encoded.value is not None:
            values[columns["status"]["id"]] = encoded.value
    return values


def _plan(rec: SyncedRecord, item) -> list[_Line]:
    """The lines of one written item that need a Monday write."""
    known = {line.exact_line_id: line for line in rec.lines.all()}
    current = {line.exact_line_id for line in item.lines}
    todo = []
    for line in item.lines:
        row = known.get(line.exact_line_id)
        sub_id = row.monday_subitem_id if row else ""
        if sub_id and row.content_hash == line.content_hash and not row.removed:
            continue
        todo.append(
            _Line(rec, line.exact_line_id, line.name, line.content_hash, line.amount, sub_id)
        )
    # With an incomplete line set (Exact's sales-order sync feed) nothing is marked removed.
    if item.lines_complete:
        for line_id, row in known.items():
            if line_id not in current and not row.removed and row.monday_subitem_id:
                gone = _Line(rec, line_id, "", "", None, row.monday_subitem_id, removed=True)
                todo.append(gone)
    return todo


def sync_lines(client, rec: SyncedRecord, item) -> int:
    """One record's lines (see sync_lines_many)."""
    return sync_lines_many(client, [(rec, item)])


def sync_lines_many(client, entries: list[tuple[SyncedRecord, object]]) -> int:
    """Create, update or mark the subitems of written items (one route). Returns how many
    lines were written.

    Lines are matched by the Exact line id: the stored subitem id, else (for a record an
    earlier attempt may have reached) its key text column, read for all such records at once,
    so a retry never adds a second subitem. A line gone from Exact is marked, never deleted.
    """
    todo = [line for rec, item in entries for line in _plan(rec, item)]
    if not todo:
        return 0
    board = _board(todo[0].rec)
    columns = _by_type(board.subitem_columns if board else [])
    sub_board_id = board.subitem_board_id if board else ""
    # A record written before (a retry, an update) may have subitems we never heard back of.
    unsure = sorted(
        {ln.rec.monday_item_id for ln in todo if not ln.subitem_id and ln.rec.write_attempts > 1}
    )
    if unsure:
        key_column = columns.get("text", {}).get("id", "")
        found_board, found = monday_subitems.existing_subitems(client, unsure, key_column)
        sub_board_id = sub_board_id or found_board
        for ln in todo:
            ln.subitem_id = ln.subitem_id or found.get(ln.rec.monday_item_id, {}).get(
                ln.exact_line_id, ""
            )
    every = {ln.ref: ln for ln in todo}
    failed: dict[str, object] = {}
    creates = [ln for ln in todo if not ln.subitem_id and not ln.removed]
    if creates and not sub_board_id:
        sub_board_id, columns = _create_first(client, board, creates[0], failed)
        if not sub_board_id:  # no subitems board: the other new lines wait for the next sync
            for ln in creates[1:]:
                failed[ln.ref] = failed[creates[0].ref]
    todo = [ln for ln in todo if ln.ref not in failed]
    results = _write(client, sub_board_id, todo, columns)
    if any(_unknown_column(r.error) for r in results.values()) and board and sub_board_id:
        # The subitems board changed (a column deleted or replaced): find its columns again.
        columns = _remember(
            board, sub_board_id, monday_subitems.board_columns(client, sub_board_id)
        )
        again = [ln for ln in todo if _unknown_column(results[ln.ref].error)]
        results.update(_write(client, sub_board_id, again, columns))
    return _record(todo, results, failed, every)


def _create_first(client, board, line: _Line, failed: dict) -> tuple[str, dict]:
    """The board's first subitem, alone; then its board's columns are known for the rest."""
    write = replace(_as_write(line, {}), parent_item_id=line.rec.monday_item_id)
    result, sub_board_id, raw_columns = monday_subitems.create_first_subitem(client, write)
    if result.error is not None or not result.item_id or not sub_board_id:
        failed[line.ref] = result.error or "Monday.com did not create the subitem."
        return "", {}
    line.subitem_id, line.created = result.item_id, True
    return sub_board_id, _remember(board, sub_board_id, raw_columns) if board else _by_type(
        raw_columns
    )


def _remember(board: MondayBoard, sub_board_id: str, columns: list[dict]) -> dict[str, dict]:
    """Cache the subitems board and its columns on the parent board's row."""
    board.subitem_board_id, board.subitem_columns = sub_board_id, columns
    board.save(update_fields=["subitem_board_id", "subitem_columns"])
    return _by_type(columns)


def _unknown_column(error) -> bool:
    return isinstance(error, MondayColumnError) and error.code == "InvalidColumnIdException"


def _as_write(line: _Line, columns: dict[str, dict]) -> SubitemWrite:
    values = _values(columns, line)
    content = "removed" if line.removed else line.content_hash
    return SubitemWrite(
        ref=line.ref,
        name=line.name or line.exact_line_id,
        column_values=values,
        subitem_id=line.subitem_id or None,
        key_value=line.exact_line_id,
        # The column ids are part of the key: resent to columns found again, it is a new
        # request, not a replay of the refused one.
        idempotency_key=idempotency_key_for(
            line.rec.route_id, line.exact_line_id, f"{content}|{','.join(sorted(values))}"
        ),
        create_labels_if_missing=line.removed,
        removed=line.removed,
        parent_item_id=line.rec.monday_item_id,
    )


def _write(client, sub_board_id: str, lines: list[_Line], columns: dict) -> dict:
    writes = [_as_write(ln, columns) for ln in lines]
    return monday_subitems.write_subitems(client, sub_board_id, writes)


def _record(todo: list[_Line], results: dict, failed: dict, every: dict[str, _Line]) -> int:
    written = 0
    errors: dict[int, SyncedRecord] = {}
    for ln in todo:
        result = results[ln.ref]
        if result.error is not None:
            failed[ln.ref] = result.error
            if ln.created:  # the subitem exists, its values did not land: keep its id
                SyncedLine.objects.update_or_create(
                    record=ln.rec,
                    exact_line_id=ln.exact_line_id,
                    defaults={"monday_subitem_id": ln.subitem_id, "content_hash": ""},
                )
            continue
        if ln.removed and not result.item_id:
            continue  # a removed line Monday never had: nothing to mark
        SyncedLine.objects.update_or_create(
            record=ln.rec,
            exact_line_id=ln.exact_line_id,
            defaults={
                "monday_subitem_id": result.item_id or ln.subitem_id,
                "content_hash": ln.content_hash,
                "removed": ln.removed,
            },
        )
        written += 1
    for ref, error in failed.items():
        line = every[ref]
        logger.warning("sync.subitem.failed", extra={"record_id": line.rec.pk, "line": ref})
        line.rec.last_error = f"Line {line.exact_line_id}: {error}"
        errors[line.rec.pk] = line.rec
    for rec in errors.values():
        rec.save(update_fields=["last_error"])
    return written
