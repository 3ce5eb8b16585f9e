"""The finance review queue: flagged records with what is missing, and dead inbox events."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.models import SyncedRecord, WebhookEvent
from integrations.sync.links import exact_record_url, monday_item_url
from mappings.models import ValueMapping
from mappings.services import SNAPSHOT_KEYS


@dataclass(frozen=True)
class MissingMapping:
    kind: str
    code: str


@dataclass(frozen=True)
class ReviewRow:
    record: SyncedRecord
    missing: tuple[MissingMapping, ...]
    exact_url: str
    monday_url: str


def review_rows(limit: int = 200) -> list[ReviewRow]:
    """Flagged records, each with the mappings that would clear it (two queries in all)."""
    records = list(
        SyncedRecord.objects.filter(state=SyncedRecord.State.FLAGGED)
        .select_related("route", "route__exact_connection")
        .order_by("-synced_at")[:limit]
    )
    mapped = set(
        ValueMapping.objects.filter(route__in={r.route_id for r in records}).values_list(
            "route_id", "division__code", "kind", "code"
        )
    )
    rows = []
    for rec in records:
        snap = rec.snapshot or {}
        missing = tuple(
            MissingMapping(kind, snap[key])
            for kind, key in SNAPSHOT_KEYS.items()
            if snap.get(key) and (rec.route_id, rec.division, kind, snap[key]) not in mapped
        )
        rows.append(
            ReviewRow(
                record=rec,
                missing=missing,
                exact_url=exact_record_url(rec.route.exact_connection.base_url, rec.division),
                monday_url=monday_item_url(
                    rec.monday_board_id or rec.route.board_id, rec.monday_item_id
                ),
            )
        )
    return rows


def dead_events(limit: int = 200):
    return WebhookEvent.objects.filter(state=WebhookEvent.State.DEAD).order_by("-received_at")[
        :limit
    ]
