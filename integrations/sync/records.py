"""Per-record entry points: sync one record, mark a deleted one, re-sync a selection."""

from __future__ import annotations

import logging
from uuid import UUID

from django.utils import timezone

import audit
from integrations.errors import IntegrationError
from integrations.exact import connections as exact_connections
from integrations.models import ColumnRole, Route, SyncedRecord
from integrations.monday import client as monday_client
from integrations.monday import items as monday_items
from integrations.monday.connections import upsert_for_connection
from integrations.sync import item_builder
from integrations.sync.board_rollover import route_on
from integrations.sync.pipeline import board_columns, write_documents

logger = logging.getLogger(__name__)
State = SyncedRecord.State


def sync_record(
    route: Route,
    *,
    division: int,
    exact_key: str,
    deleted: bool = False,
    via: str = SyncedRecord.Via.WEBHOOK,
    correlation_id: str = "",
    key_salt: str = "",
) -> SyncedRecord | None:
    """Fetch one Exact record with its lines and upsert its Monday item. Idempotent.

    Raises the IntegrationError of a write that failed (retryable or not); mapping problems
    never raise, they flag the item.
    """
    if deleted:
        return mark_deleted(
            route, division=division, exact_key=exact_key, correlation_id=correlation_id
        )
    client = exact_connections.for_connection(route.exact_connection)
    doc = client.get_document(route.entity, division, UUID(exact_key))
    if doc is None:
        # Gone between the notification and the fetch: treat as deleted, never create.
        return mark_deleted(
            route, division=division, exact_key=exact_key, correlation_id=correlation_id
        )
    outcome = write_documents(
        route, [doc], via=via, correlation_id=correlation_id, key_salt=key_salt
    )
    if outcome.errors:
        raise outcome.errors[0]
    return outcome.records[0]


def mark_deleted(
    route: Route, *, division: int, exact_key: str, correlation_id: str = ""
) -> SyncedRecord | None:
    """Mark (never delete) the Monday item of a record deleted in Exact. Idempotent."""
    rec = SyncedRecord.objects.filter(route=route, exact_key=exact_key).first()
    if rec is None or rec.state == State.DELETED:
        return rec
    route = route_on(route, rec.monday_board_id)  # the board (and columns) its item is on
    status_column = route.column(ColumnRole.STATUS) or route.column(ColumnRole.REVIEW_FLAG)
    if rec.monday_item_id and status_column:
        column = board_columns(route).get(status_column)
        encoded = (
            item_builder.encode_for_column(column, route.deleted_label, create_labels=True)
            if column
            else None
        )
        if encoded and encoded.value is not None:
            client = monday_client.for_connection(route.monday_connection)
            write = monday_items.ItemWrite(
                ref=exact_key,
                board_id=route.board_id,
                group_id="",
                name="",
                column_values={status_column: encoded.value},
                item_id=rec.monday_item_id,
                idempotency_key=monday_items.idempotency_key_for(route.pk, exact_key, "deleted"),
                create_labels_if_missing=True,
            )
            (result,) = upsert_for_connection(route.monday_connection, [write], client=client)
            if result.error is not None:
                raise result.error
    before = {"state": rec.state}
    rec.state = State.DELETED
    rec.synced_at = timezone.now()
    rec.save(update_fields=["state", "synced_at"])
    audit.record(
        "item.marked_deleted",
        obj=rec,
        division=division,
        before=before,
        after={"state": rec.state},
        correlation_id=correlation_id,
        actor="sync",
    )
    return rec


def resync_records(records, *, user=None, correlation_id: str = "") -> dict[str, int]:
    """Re-fetch and re-write the given synced records (review queue, reconciliation)."""
    counts = {"synced": 0, "flagged": 0, "failed": 0}
    for rec in records.select_related(
        "route", "route__exact_connection", "route__monday_connection"
    ):
        SyncedRecord.objects.filter(pk=rec.pk).update(content_hash="")  # force a write
        try:
            result = sync_record(
                rec.route,
                division=rec.division,
                exact_key=rec.exact_key,
                via=SyncedRecord.Via.MANUAL,
                correlation_id=correlation_id,
            )
        except IntegrationError:
            counts["failed"] += 1
            continue
        counts["flagged" if result and result.state == State.FLAGGED else "synced"] += 1
    audit.record("records.resynced", actor=user, message=str(counts), correlation_id=correlation_id)
    return counts
