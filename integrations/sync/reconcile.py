"""Reconciliation: the documents in Exact Online against the items on the board, and the fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

import audit
from integrations import sync
from integrations.exact import connections as exact_connections
from integrations.models import ColumnRole, Route, RouteBoard, SyncedRecord
from integrations.monday import client as monday_client
from integrations.monday.items import read_board_items
from integrations.sync import item_builder
from integrations.sync.board_rollover import route_on
from mappings.resolve import load_context

# What a finance team checks: the roles below, when the route maps them.
COMPARED_ROLES = [
    ColumnRole.DATE,
    ColumnRole.AMOUNT,
    ColumnRole.AMOUNT_DC,
    ColumnRole.CURRENCY,
    ColumnRole.ACCOUNT,
    ColumnRole.GL_ACCOUNT,
    ColumnRole.COST_CENTER,
    ColumnRole.STATUS,
]


@dataclass(frozen=True)
class Difference:
    kind: str  # "missing" (not on the board), "extra" (gone from Exact), "mismatch"
    exact_key: str
    exact_number: str = ""
    item_id: str = ""
    fields: dict[str, tuple[str, str]] = field(default_factory=dict)  # role -> (exact, board)


@dataclass
class Report:
    route: Route
    division: int
    since: date
    checked: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def display_text(column: dict, encoded) -> str:
    """The text Monday shows for a value we would write (what `column_values { text }` reads)."""
    if encoded is None:
        return ""
    kind = column.get("type")
    if kind == "date":
        return encoded.get("date", "")
    if kind == "status":
        return str(encoded.get("label", ""))
    if kind == "dropdown":
        return ", ".join(encoded.get("labels", []))
    if kind == "long_text":
        return encoded.get("text", "")
    return str(encoded)


def _same(column: dict, expected: str, actual: str) -> bool:
    if column.get("type") == "numbers":
        try:
            return Decimal(expected or "0") == Decimal(actual or "0")
        except InvalidOperation:
            return False
    return (expected or "").strip() == (actual or "").strip()


def _exact_documents(route: Route, division: int, since: date) -> dict[str, object]:
    # The whole sync feed (1,000 rows a call) rather than a date filter: an invoice dated in the
    # period may have been entered before it, and the feed is the source of truth.
    client = exact_connections.for_connection(route.exact_connection)
    docs = {}
    for page in client.iter_changes(route.entity, division, since=1):
        for doc in page.documents:
            docs[str(doc.key)] = doc
    return {k: d for k, d in docs.items() if d.document_date is None or d.document_date >= since}


@dataclass(frozen=True)
class BoardItem:
    """An item as read from its board, with the route as it writes to that board (its column
    ids: a rolled-over board has its own) and that board's columns."""

    route: Route
    columns: dict[str, dict]
    item: dict
    texts: dict[str, str]


def route_boards(route: Route) -> list[str]:
    """Every board the route's items are on: its earlier boards (rollover), then its own."""
    earlier = RouteBoard.objects.filter(route=route, ready=True).exclude(board_id=route.board_id)
    return [*earlier.order_by("number").values_list("board_id", flat=True), route.board_id]


def _board_items(route: Route) -> dict[str, BoardItem]:
    """Every item on the route's boards, by the Exact key in its key column."""
    client = monday_client.for_connection(route.monday_connection)
    found: dict[str, BoardItem] = {}
    for board_id in route_boards(route):
        view = route_on(route, board_id)
        columns = sync.board_columns(view)
        key_column = view.column(ColumnRole.EXACT_KEY)
        wanted = [view.column(r) for r in [*COMPARED_ROLES, ColumnRole.DATE]]
        items = read_board_items(
            client, board_id, [key_column, *dict.fromkeys(c for c in wanted if c in columns)]
        )
        for item in items:
            texts = {cv["id"]: cv.get("text") or "" for cv in item.get("column_values") or []}
            key = texts.get(key_column, "").lower()
            found.setdefault(key, BoardItem(view, columns, item, texts))
    return found


def reconcile(route: Route, division: int, since: date) -> Report:
    """Compare Exact's documents of the period with the items on every board of the route
    (its earlier boards too). Reads only; changes nothing."""
    report = Report(route=route, division=division, since=since)
    board = _board_items(route)
    docs = _exact_documents(route, division, since)
    ctx = load_context(route, division)
    records = {r.exact_key: r for r in SyncedRecord.objects.filter(route=route, division=division)}
    for key, doc in docs.items():
        report.checked += 1
        if key not in board:
            report.differences.append(Difference("missing", key, str(doc.number or "")))
            continue
        found = board[key]
        view, columns = found.route, found.columns
        built = item_builder.build_item(view, doc, ctx, columns)
        diffs = {}
        for role in COMPARED_ROLES:
            column_id = view.column(role)
            if column_id not in columns:
                continue
            expected = display_text(columns[column_id], built.column_values.get(column_id))
            if not _same(columns[column_id], expected, found.texts.get(column_id, "")):
                diffs[role] = (expected, found.texts.get(column_id, ""))
        if diffs:
            report.differences.append(
                Difference("mismatch", key, str(doc.number or ""), found.item["id"], diffs)
            )
    deleted_label = route.deleted_label
    for key, found in board.items():
        if not key or key in docs:
            continue
        record = records.get(key)
        texts, date_column = found.texts, found.route.column(ColumnRole.DATE)
        in_period = not texts.get(date_column) or texts[date_column] >= since.isoformat()
        marked = texts.get(found.route.column(ColumnRole.STATUS)) == deleted_label or (
            record is not None and record.state == SyncedRecord.State.DELETED
        )
        if in_period and not marked and record is not None and record.division == division:
            report.differences.append(
                Difference("extra", key, record.exact_number, found.item["id"])
            )
    return report


def fix(report: Report, *, keys: list[str] | None = None, user=None) -> int:
    """Bring the board back in line for the given differences (all by default). Idempotent."""
    fixed = 0
    for diff in report.differences:
        if keys is not None and diff.exact_key not in keys:
            continue
        records = SyncedRecord.objects.filter(route=report.route, exact_key=diff.exact_key)
        if diff.kind == "extra":
            sync.mark_deleted(report.route, division=report.division, exact_key=diff.exact_key)
        else:
            salt = ""
            if diff.kind == "missing":
                # The item is gone from the board: forget its id so the upsert creates it again,
                # under a fresh Idempotency-Key (Monday would replay the first creation).
                gone = records.values_list("monday_item_id", flat=True).first() or ""
                salt = f":re{gone}"
                records.update(monday_item_id="", content_hash="", write_attempts=0)
            else:
                records.update(content_hash="", snapshot={})
            sync.sync_record(
                report.route,
                division=report.division,
                exact_key=diff.exact_key,
                via=SyncedRecord.Via.MANUAL,
                correlation_id="reconcile",
                key_salt=salt,
            )
        fixed += 1
    audit.record(
        "reconcile.fixed",
        actor=user,
        obj=report.route,
        division=report.division,
        after={"fixed": fixed, "since": report.since.isoformat()},
    )
    return fixed
