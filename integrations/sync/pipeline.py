"""The one place that decides create vs update: Exact documents -> Monday items, under row
locks, recorded once per record. Webhooks, polling and re-syncs all come through here."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

import audit
from integrations.errors import IntegrationError, ReconnectRequired, RemoteRejected
from integrations.models import ColumnRole, MondayBoard, Route, SyncedRecord
from integrations.monday import client as monday_client
from integrations.monday import items as monday_items
from integrations.monday.connections import mark_monday_needs_attention, upsert_for_connection
from integrations.monday.errors import BoardFull, MondayColumnError
from integrations.sync import board_rollover, item_builder
from mappings.resolve import load_context

logger = logging.getLogger(__name__)
State = SyncedRecord.State


@dataclass
class WriteOutcome:
    records: list[SyncedRecord] = field(default_factory=list)
    written: int = 0
    unchanged: int = 0
    flagged: int = 0
    errors: list[IntegrationError] = field(default_factory=list)
    failed: dict[str, IntegrationError] = field(default_factory=dict)  # by Exact key
    # Creates Monday refused because the board is full: (board id, error) by Exact key.
    full: dict[str, tuple[str, BoardFull]] = field(default_factory=dict)


# Boards made for one batch whose creates Monday refuses as full, before the refusal is failed.
FULL_BOARD_ROUNDS = 3


def board_columns(route: Route) -> dict[str, dict]:
    """The route's board columns by id, from the cached board (refreshed once when missing)."""
    board = MondayBoard.objects.filter(
        connection=route.monday_connection, board_id=route.board_id
    ).first()
    if board is None:
        from integrations.monday.boards import refresh_boards

        refresh_boards(route.monday_connection)
        board = MondayBoard.objects.filter(
            connection=route.monday_connection, board_id=route.board_id
        ).first()
    if board is None:
        raise RemoteRejected(
            f"Monday board {route.board_id} of route {route} cannot be found.",
            hint="Refresh the boards of the Monday connection and check the route's board.",
        )
    return {column["id"]: column for column in board.columns}


def _ensure_records(route: Route, docs, via: str) -> dict[str, SyncedRecord]:
    keys = [str(d.key) for d in docs]
    existing = {
        r.exact_key: r for r in SyncedRecord.objects.filter(route=route, exact_key__in=keys)
    }
    for doc in docs:
        key = str(doc.key)
        if key in existing:
            continue
        try:
            with transaction.atomic():
                existing[key] = SyncedRecord.objects.create(
                    route=route,
                    division=doc.division,
                    exact_key=key,
                    first_seen_via=via,
                    exact_number=str(doc.number or ""),
                )
        except IntegrityError:  # another worker created it a moment ago
            existing[key] = SyncedRecord.objects.get(route=route, exact_key=key)
    return existing


def write_documents(
    route: Route, docs, *, via: str, correlation_id: str = "", key_salt: str = ""
) -> WriteOutcome:
    """Upsert the Monday items of these documents (one batch). Unchanged ones cost nothing.

    Each record's row is locked while its item is written, so concurrent workers never create
    two items; a write whose outcome was lost is found again by the Exact key column. An item
    is written on the board it lives on; new items go on the route's current board, which
    rolls over to a new board before it is full (board_rollover), or when Monday refuses a
    create because the board is full: those creates are sent again on the new board.
    """
    outcome = WriteOutcome()
    if not docs:
        return outcome
    by_key: dict[str, SyncedRecord] = {}
    todo = list(docs)
    for round_no in range(FULL_BOARD_ROUNDS):
        full = _write_planned(route, todo, by_key, outcome, via, correlation_id, key_salt)
        if not full:
            break
        # Monday says a board is full (items it holds that we did not count: added by hand,
        # or the limit was unknown): count it full, so the planner rolls over, and send the
        # refused creates again, on the new board, in this same job.
        board_rollover.board_refused(route, full)
        todo = [d for d in docs if str(d.key) in full]
        if round_no == FULL_BOARD_ROUNDS - 1:
            for key, (_, error) in full.items():
                _record_failure(by_key[key], error, correlation_id, outcome)
    outcome.records = [by_key[str(d.key)] for d in docs]
    return outcome


def _write_planned(route, docs, by_key, outcome, via, correlation_id, key_salt) -> dict:
    """Write the documents on the boards the planner picks; returns the creates refused as
    full, by Exact key."""
    try:
        plan = board_rollover.boards_for(route, docs)
    except ReconnectRequired as exc:  # its mark was rolled back with the planner's transaction
        mark_monday_needs_attention(
            route.monday_connection, reason=f"{exc.message} {exc.hint}".strip()
        )
        raise
    full: dict[str, tuple[str, BoardFull]] = {}
    for board_route, part in plan:
        done = _write_on_board(
            board_route, part, via=via, correlation_id=correlation_id, key_salt=key_salt
        )
        outcome.written += done.written
        outcome.unchanged += done.unchanged
        outcome.flagged += done.flagged
        outcome.errors.extend(done.errors)
        outcome.failed.update(done.failed)
        full.update(done.full)
        by_key.update((rec.exact_key, rec) for rec in done.records)
    return full


def _write_on_board(route: Route, docs, *, via: str, correlation_id: str, key_salt: str):
    outcome = WriteOutcome()
    columns = board_columns(route)
    contexts = {div: load_context(route, div) for div in {d.division for d in docs}}
    built = {
        str(d.key): item_builder.build_item(route, d, contexts[d.division], columns) for d in docs
    }
    docs_by_key = {str(d.key): d for d in docs}
    records = _ensure_records(route, docs, via)
    todo = [
        key for key, rec in records.items() if not _is_current(rec, built[key], docs_by_key[key])
    ]
    outcome.unchanged = len(records) - len(todo)
    if todo:
        ids = [records[k].pk for k in todo]
        # Committed before the write: if this worker dies after Monday applied the write, the
        # next attempt sees attempts without an item id and looks the item up first.
        # The board is remembered with it: a retry looks the item up on the same board.
        SyncedRecord.objects.filter(pk__in=ids).update(
            write_attempts=F("write_attempts") + 1, monday_board_id=route.board_id
        )
        try:
            with transaction.atomic():
                locked = {
                    r.exact_key: r
                    for r in SyncedRecord.objects.select_for_update()
                    .filter(pk__in=ids)
                    .order_by("pk")
                }
                _write_locked(
                    route, locked, built, docs_by_key, via, correlation_id, outcome, key_salt
                )
                records.update(locked)
        except ReconnectRequired as exc:
            # Only Monday is called under the lock; its rejection of the token was rolled back
            # with the transaction, so record it again now that the transaction is over.
            mark_monday_needs_attention(
                route.monday_connection, reason=f"{exc.message} {exc.hint}".strip()
            )
            raise
    outcome.records = [records[str(d.key)] for d in docs]
    return outcome


def _is_current(rec: SyncedRecord, item, doc) -> bool:
    if rec.exact_timestamp and doc.timestamp and doc.timestamp < rec.exact_timestamp:
        return True  # an older row version never overwrites a newer one
    return bool(
        rec.monday_item_id
        and rec.content_hash == item.content_hash
        and rec.state in (State.SYNCED, State.FLAGGED)
    )


def _write_locked(
    route, locked, built, docs_by_key, via, correlation_id, outcome, key_salt=""
) -> None:
    client = monday_client.for_connection(route.monday_connection)
    key_column = route.column(ColumnRole.EXACT_KEY)
    writes = []
    for key, rec in locked.items():
        if _is_current(rec, built[key], docs_by_key[key]):  # another worker just wrote it
            continue
        item = built[key]
        lookup = not rec.monday_item_id and rec.write_attempts > 1 and key_column
        values = item.column_values
        if rec.monday_item_id:  # an update sends only the columns that changed
            written = (rec.snapshot or {}).get("columns") or {}
            values = {k: v for k, v in values.items() if written.get(k) != v} or values
        writes.append(
            monday_items.ItemWrite(
                ref=key,
                board_id=route.board_id,
                group_id=item.group_id,
                name=item.name,
                column_values=values,
                item_id=rec.monday_item_id or None,
                key_column_id=key_column if lookup else "",
                key_value=key,
                # Same content, same key: a retry after a lost answer is replayed by Monday.
                # A deliberate re-creation (reconciliation) passes a salt for a fresh key.
                idempotency_key=monday_items.idempotency_key_for(
                    route.pk, key, item.content_hash + key_salt
                ),
                create_labels_if_missing=route.create_labels_if_missing,
            )
        )
    flag_column = board_columns(route).get(route.column(ColumnRole.REVIEW_FLAG))
    flag = None
    if flag_column:
        encoded = item_builder.encode_for_column(
            flag_column, item_builder.REVIEW_LABEL, create_labels=True
        )
        flag = (flag_column["id"], encoded.value) if encoded.value is not None else None
    results = _upsert_dropping_rejected_columns(
        client, route.monday_connection, writes, built, flag
    )
    with_lines = []
    for result in results:
        rec, item, doc = locked[result.ref], built[result.ref], docs_by_key[result.ref]
        if isinstance(result.error, BoardFull) and not rec.monday_item_id:
            outcome.full[result.ref] = (route.board_id, result.error)  # another board: caller
            continue
        if result.error is not None:
            _record_failure(rec, result.error, correlation_id, outcome)
            continue
        _record_success(route, rec, item, doc, result, via, correlation_id, outcome)
        if route.line_items == Route.LineItems.SUBITEMS and item.lines:
            with_lines.append((rec, item))
    if with_lines:  # every written item's lines in the same packed batches
        from integrations.sync.subitems import sync_lines_many

        sync_lines_many(client, with_lines)


def _upsert_dropping_rejected_columns(client, connection, writes, built, flag, rounds: int = 3):
    """Upsert; when Monday refuses one column's value (a label it does not have, a value that
    does not fit), write the item without that column and flag it with Monday's sentence:
    a mapping problem never costs the item. Other errors come back on their result."""
    results: dict[str, monday_items.ItemResult] = {}
    pending = list(writes)
    for _ in range(rounds):
        if not pending:
            break
        retry = []
        for result in upsert_for_connection(connection, pending, client=client):
            error = result.error
            column_id = getattr(error, "column_id", "")
            write = next(w for w in pending if w.ref == result.ref)
            if isinstance(error, MondayColumnError) and column_id in write.column_values:
                values = {k: v for k, v in write.column_values.items() if k != column_id}
                if flag:
                    values[flag[0]] = flag[1]
                # A new Idempotency-Key: the refused request's answer is cached under the old one.
                key = f"{write.idempotency_key}:-{column_id}"
                retry.append(dataclasses.replace(write, column_values=values, idempotency_key=key))
                # Remember what was really written, so a later update diffs against it.
                flagged = built[result.ref].with_reason(str(error))
                built[result.ref] = dataclasses.replace(flagged, column_values=values)
                continue
            results[result.ref] = result
        pending = retry
    return list(results.values())


def _record_success(route, rec, item, doc, result, via, correlation_id, outcome) -> None:
    before = {"state": rec.state, "snapshot": rec.snapshot, "reasons": rec.review_reasons}
    was_flagged = rec.state == State.FLAGGED
    rec.monday_item_id = result.item_id
    rec.content_hash = item.content_hash
    rec.state = State.FLAGGED if item.flagged else State.SYNCED
    # The date it joined the review queue; a re-write while still flagged keeps it.
    rec.flagged_at = (rec.flagged_at if was_flagged else timezone.now()) if item.flagged else None
    rec.review_reasons = list(item.reasons)
    rec.snapshot = {**item.snapshot, "columns": item.column_values}
    rec.exact_number = str(doc.number or "")
    rec.exact_timestamp = max(filter(None, [rec.exact_timestamp, doc.timestamp]), default=None)
    rec.last_error = ""
    rec.synced_at = timezone.now()
    # A change made while the route was live that only polling delivered: a missed webhook.
    if via == SyncedRecord.Via.POLL and doc.modified and doc.modified > route.created_at:
        rec.caught_by_polling = True
    rec.save()
    outcome.written += 1
    after = {"state": rec.state, "snapshot": rec.snapshot, "reasons": rec.review_reasons}
    common = dict(obj=rec, division=rec.division, correlation_id=correlation_id, actor=via)
    audit.record(
        "item.created" if result.created else "item.updated", before=before, after=after, **common
    )
    if item.flagged:
        outcome.flagged += 1
        audit.record("item.flagged", message="; ".join(item.reasons), **common)
    elif was_flagged:
        audit.record("item.unflagged", message="All mappings resolved.", **common)


def _record_failure(rec, error: IntegrationError, correlation_id: str, outcome) -> None:
    rec.state = State.FAILED
    rec.last_error = str(error)
    rec.save(update_fields=["state", "last_error"])
    outcome.errors.append(error)
    outcome.failed[rec.exact_key] = error
    audit.record(
        "item.failed",
        obj=rec,
        division=rec.division,
        message=str(error),
        correlation_id=correlation_id,
        actor="sync",
    )
