"""Line items as subitems: each Exact line kept in step with one subitem, by its line id."""

from __future__ import annotations

import logging

from integrations.models import MondayBoard, SyncedLine, SyncedRecord
from integrations.monday.columns import encode_for_column
from integrations.monday.items import SubitemWrite, idempotency_key_for, sync_subitems

logger = logging.getLogger(__name__)
REMOVED_LABEL = "Removed in Exact"


def _subitem_columns(rec: SyncedRecord) -> dict[str, dict]:
    """The subitem board's columns by type: the first text (line id), numbers (amount) and
    status (removed marker). Empty before the board's first subitem exists."""
    board = MondayBoard.objects.filter(
        connection=rec.route.monday_connection,
        board_id=rec.monday_board_id or rec.route.board_id,
    ).first()
    by_type: dict[str, dict] = {}
    for column in (board.subitem_columns if board else []) or []:
        by_type.setdefault(column.get("type", ""), column)
    return by_type


def _values(columns: dict[str, dict], line, *, removed: bool) -> dict:
    values = {}
    if "text" in columns:
        values[columns["text"]["id"]] = line.exact_line_id
    if "numbers" in columns and line.amount is not None:
        encoded = encode_for_column(columns["numbers"], line.amount, create_labels=False)
        if encoded.value is not None:
            values[columns["numbers"]["id"]] = encoded.value
    if removed and "status" in columns:
        encoded = encode_for_column(columns["status"], REMOVED_LABEL, create_labels=True)
        if encoded.value is not None:
            values[columns["status"]["id"]] = encoded.value
    return values


def sync_lines(client, rec: SyncedRecord, item) -> int:
    """Create, update or mark the subitems of one written item. Returns how many were written.

    Lines are matched by the Exact line id (stored subitem id, else the key text column), so a
    retry never adds a second subitem. A line gone from Exact is marked, never deleted; with
    an incomplete line set (Exact's sales-order sync feed) nothing is marked removed.
    """
    known = {line.exact_line_id: line for line in rec.lines.all()}
    columns = _subitem_columns(rec)
    key_column = columns.get("text", {}).get("id", "")
    current = {line.exact_line_id for line in item.lines}
    writes = []
    for line in item.lines:
        row = known.get(line.exact_line_id)
        if (
            row
            and row.monday_subitem_id
            and row.content_hash == line.content_hash
            and not row.removed
        ):
            continue
        writes.append(_write(rec, line, row, columns, key_column, removed=False))
    if item.lines_complete:
        for line_id, row in known.items():
            if line_id not in current and not row.removed and row.monday_subitem_id:
                marker = _GoneLine(exact_line_id=line_id, name="", content_hash="", amount=None)
                writes.append(_write(rec, marker, row, columns, key_column, removed=True))
    if not writes:
        return 0
    results = sync_subitems(client, rec.monday_item_id, writes)
    by_ref = {w.ref: w for w in writes}
    written = 0
    for result in results:
        if result.error is not None:
            logger.warning("sync.subitem.failed", extra={"record_id": rec.pk, "line": result.ref})
            rec.last_error = f"Line {result.ref}: {result.error}"
            continue
        write = by_ref[result.ref]
        line_hash = next(
            (ln.content_hash for ln in item.lines if ln.exact_line_id == result.ref), ""
        )
        SyncedLine.objects.update_or_create(
            record=rec,
            exact_line_id=result.ref,
            defaults={
                "monday_subitem_id": result.item_id or "",
                "content_hash": line_hash,
                "removed": write.removed,
            },
        )
        written += 1
    if rec.last_error:
        rec.save(update_fields=["last_error"])
    if written and not columns:
        # The first subitem just created the subitem board: cache its columns for next time.
        from integrations.monday.boards import refresh_boards

        refresh_boards(rec.route.monday_connection)
    return written


class _GoneLine:
    def __init__(self, *, exact_line_id, name, content_hash, amount):
        self.exact_line_id, self.name, self.content_hash, self.amount = (
            exact_line_id,
            name,
            content_hash,
            amount,
        )


def _write(rec, line, row, columns, key_column, *, removed: bool) -> SubitemWrite:
    return SubitemWrite(
        ref=line.exact_line_id,
        name=line.name or line.exact_line_id,
        column_values=_values(columns, line, removed=removed),
        subitem_id=row.monday_subitem_id if row and row.monday_subitem_id else None,
        key_column_id=key_column,
        key_value=line.exact_line_id,
        idempotency_key=idempotency_key_for(
            rec.route_id, line.exact_line_id, "removed" if removed else line.content_hash
        ),
        create_labels_if_missing=removed,
        removed=removed,
    )
