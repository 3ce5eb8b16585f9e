"""Per-record entry points: sync one record, mark a deleted one, re-sync a selection."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

from django.utils import timezone

import audit
from integrations.errors import IntegrationError, ReadOn, ReconnectRequired
from integrations.exact import connections as exact_connections
from integrations.exact.entities import ExactDocument
from integrations.models import ColumnRole, Route, SyncedRecord
from integrations.monday import client as monday_client
from integrations.monday import items as monday_items
from integrations.monday.batching import CREATES_PER_REQUEST
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
    key = _normal(exact_key)
    outcome = sync_keys(
        route, division, [key], via=via, correlation_id=correlation_id, key_salt=key_salt
    )
    if key in outcome.failed:
        raise outcome.failed[key]
    return outcome.records.get(key)


@dataclass
class KeysOutcome:
    records: dict[str, SyncedRecord | None] = field(default_factory=dict)
    failed: dict[str, IntegrationError] = field(default_factory=dict)


# Keys left when a job's time was up: retried, and written by their next job.
SLICE_ENDED = ReadOn(
    "Read in part: this burst was larger than one job may write.",
    hint="Nothing to do: the next job reads on from where this one stopped.",
)


def read_documents(route: Route, division: int, keys) -> dict[str, ExactDocument]:
    """The documents of these keys, read together (key-batched filters); deleted ones absent."""
    keys = [_normal(k) for k in keys]
    if not keys:
        return {}
    client = exact_connections.for_connection(route.exact_connection)
    found = client.get_documents(route.entity, division, [UUID(k) for k in keys])
    return {str(key): doc for key, doc in found.items()}


def sync_keys(
    route: Route,
    division: int,
    keys,
    *,
    deleted=(),
    via: str,
    correlation_id: str = "",
    key_salt: str = "",
    documents: dict[str, ExactDocument] | None = None,
    deadline: float | None = None,
    on_written: Callable[[set[str]], None] | None = None,
) -> KeysOutcome:
    """Bring these records across together: one key-batched read, one batched write (as a poll
    does). Keys in `deleted`, and keys Exact no longer has, get their items marked deleted.
    With `deadline` (time.monotonic()), the keys not written by then fail with SLICE_ENDED
    (retried, no attempt spent); `on_written(keys)` hears of each part written (write_in_parts).

    Per-key failures come back in `failed`; an error that concerns the whole batch (a token
    refused, the board gone, Exact unreachable) is raised.
    """
    outcome = KeysOutcome()
    gone = {_normal(k) for k in deleted}
    changed = [k for k in dict.fromkeys(_normal(k) for k in keys) if k not in gone]
    docs = documents if documents is not None else read_documents(route, division, changed)
    gone |= {k for k in changed if k not in docs}  # deleted in Exact since the notification
    for key in sorted(gone):
        try:
            outcome.records[key] = mark_deleted(
                route, division=division, exact_key=key, correlation_id=correlation_id
            )
        except ReconnectRequired:
            raise
        except IntegrationError as exc:
            outcome.failed[key] = exc
    found = [docs[k] for k in changed if k in docs]
    done, _ = write_in_parts(
        route,
        found,
        outcome,
        via=via,
        correlation_id=correlation_id,
        key_salt=key_salt,
        deadline=deadline,
        on_written=on_written,
    )
    outcome.failed.update({str(doc.key): SLICE_ENDED for doc in found[done:]})
    return outcome


def write_in_parts(
    route: Route,
    docs: list[ExactDocument],
    outcome: KeysOutcome,
    *,
    via: str | Callable[[ExactDocument], str],
    correlation_id: str = "",
    key_salt: str = "",
    deadline: float | None = None,
    on_written: Callable[[set[str]], None] | None = None,
) -> tuple[int, bool]:
    """Write these documents into `outcome`; `via` names how they came (or says it per
    document). Returns (how many of `docs` were written or failed, whether a failure is to be
    retried). With `deadline` (a job's, time.monotonic()), one Monday request's worth at a
    time: Monday's budget is shared by every worker on the token, so a batch's time is not this
    job's to decide; past the deadline the rest is left to the next job (before the job
    timeout kills this one). `on_written(keys)` hears of each part written."""
    size = CREATES_PER_REQUEST if deadline is not None else max(len(docs), 1)
    wrote = retry = False
    for start in range(0, len(docs), size):
        # Parts a job before this one wrote cost nothing: time counts from a part that wrote.
        if wrote and deadline is not None and time.monotonic() > deadline:
            return start, retry
        part = docs[start : start + size]
        for how, subset in _by_via(part, via):
            written = write_documents(
                route, subset, via=how, correlation_id=correlation_id, key_salt=key_salt
            )
            wrote = wrote or bool(written.written or written.failed)
            for doc, rec in zip(subset, written.records, strict=True):
                key = str(doc.key)
                if key in written.failed:
                    outcome.failed[key] = written.failed[key]
                    retry = retry or written.failed[key].retryable
                else:
                    outcome.records[key] = rec
        if on_written is not None:
            on_written({str(d.key) for d in part} & outcome.records.keys())
    return len(docs), retry


def _by_via(docs: list[ExactDocument], via) -> list[tuple[str, list[ExactDocument]]]:
    if isinstance(via, str):
        return [(via, docs)]
    hows = [via(doc) for doc in docs]
    return [
        (how, [doc for doc, its in zip(docs, hows, strict=True) if its == how])
        for how in dict.fromkeys(hows)
    ]


def _normal(key) -> str:
    """The key as records store it (lower-case GUID text); raises ValueError if not a GUID."""
    return str(UUID(str(key)))


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
    """Re-fetch and re-write the given synced records (review queue, reconciliation): read and
    written together per route and division, never one record at a time."""
    counts = {"synced": 0, "flagged": 0, "failed": 0}
    groups: dict[tuple[int, int], list[SyncedRecord]] = {}
    for rec in records.select_related(
        "route", "route__exact_connection", "route__monday_connection"
    ):
        groups.setdefault((rec.route_id, rec.division), []).append(rec)
    for (_, division), recs in groups.items():
        SyncedRecord.objects.filter(pk__in=[r.pk for r in recs]).update(content_hash="")
        try:
            outcome = sync_keys(
                recs[0].route,
                division,
                [r.exact_key for r in recs],
                via=SyncedRecord.Via.MANUAL,
                correlation_id=correlation_id,
            )
        except IntegrationError:
            counts["failed"] += len(recs)
            continue
        for rec in recs:
            key = _normal(rec.exact_key)
            result = outcome.records.get(key)
            if key in outcome.failed:
                counts["failed"] += 1
            else:
                counts["flagged" if result and result.state == State.FLAGGED else "synced"] += 1
    audit.record("records.resynced", actor=user, message=str(counts), correlation_id=correlation_id)
    return counts
