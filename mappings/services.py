"""Mapping services: set mappings (audited), find the items they affect, CSV in and out."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q, QuerySet

import audit
from integrations.models import ExactDivision, Route, SyncedRecord
from mappings.models import ValueMapping

CSV_HEADER = ["route", "division", "kind", "code", "monday_value"]
SNAPSHOT_KEYS = {
    ValueMapping.Kind.GL_ACCOUNT: "gl_account",
    ValueMapping.Kind.COST_CENTER: "cost_center",
}


def affected_records(route: Route, division: int, kind: str, codes: Iterable[str]) -> QuerySet:
    """Synced records on the route whose document uses one of these codes."""
    key = SNAPSHOT_KEYS[kind]
    return SyncedRecord.objects.filter(route=route, division=division).filter(
        **{f"snapshot__{key}__in": list(codes)}
    )


@transaction.atomic
def set_mappings(
    route: Route, division: ExactDivision, kind: str, codes: Iterable[str], value: str, *, user=None
) -> int:
    """Map every code to one Monday value (create or change). Returns the number of synced
    records that use these codes, so the caller can offer to re-sync them."""
    codes = sorted(set(codes))
    for code in codes:
        mapping = ValueMapping.objects.filter(
            route=route, division=division, kind=kind, code=code
        ).first()
        before = {"monday_value": mapping.monday_value} if mapping else None
        if mapping is None:
            mapping = ValueMapping(route=route, division=division, kind=kind, code=code)
        mapping.monday_value = value
        mapping.updated_by = user if getattr(user, "pk", None) else None
        mapping.save()
        audit.record(
            "mapping.set",
            actor=user,
            obj=mapping,
            division=division.code,
            before=before,
            after={"kind": kind, "exact_code": code, "monday_value": value},
        )
    return affected_records(route, division.code, kind, codes).count()


@transaction.atomic
def delete_mapping(mapping: ValueMapping, *, user=None) -> None:
    audit.record(
        "mapping.deleted",
        actor=user,
        obj=mapping,
        division=mapping.division.code,
        before={
            "kind": mapping.kind,
            "exact_code": mapping.code,
            "monday_value": mapping.monday_value,
        },
    )
    mapping.delete()


def unblocked_records(route: Route | None = None) -> QuerySet:
    """Flagged records whose GL account and cost center are now all mapped: ready to re-sync."""
    flagged = SyncedRecord.objects.filter(state=SyncedRecord.State.FLAGGED)
    if route is not None:
        flagged = flagged.filter(route=route)
    ready = []
    mapped = set(ValueMapping.objects.values_list("route_id", "division__code", "kind", "code"))
    for rec in flagged.only("id", "route_id", "division", "snapshot"):
        snap = rec.snapshot or {}
        needs = [(kind, snap.get(key)) for kind, key in SNAPSHOT_KEYS.items() if snap.get(key)]
        if all((rec.route_id, rec.division, kind, code) in mapped for kind, code in needs):
            ready.append(rec.pk)
    return SyncedRecord.objects.filter(pk__in=ready)


def export_csv(queryset: QuerySet) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for m in queryset.select_related("route", "division").order_by(
        "route__name", "division__code", "kind", "code"
    ):
        writer.writerow([m.route.name, m.division.code, m.kind, m.code, m.monday_value])
    return out.getvalue()


class CsvImportError(ValueError):
    pass


def import_csv(text: str, *, user=None) -> int:
    """Create or change mappings from CSV rows (route name, division code, kind, code, value).
    All or nothing: a bad row stops the import with its line number."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or [f.strip() for f in reader.fieldnames] != CSV_HEADER:
        raise CsvImportError(f"The first line must be: {','.join(CSV_HEADER)}")
    rows = list(reader)
    with transaction.atomic():
        for number, row in enumerate(rows, start=2):
            route = Route.objects.filter(name=row["route"]).first()
            division = (
                ExactDivision.objects.filter(
                    Q(code=_int(row["division"], number)), Q(routes=route)
                ).first()
                if route
                else None
            )
            if route is None or division is None:
                raise CsvImportError(f"Line {number}: unknown route or division for that route.")
            if row["kind"] not in SNAPSHOT_KEYS or not row["code"].strip():
                raise CsvImportError(
                    f"Line {number}: kind must be gl_account or cost_center, with a code."
                )
            set_mappings(
                route,
                division,
                row["kind"],
                [row["code"].strip()],
                row["monday_value"].strip(),
                user=user,
            )
    return len(rows)


def _int(value: str, line: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise CsvImportError(f"Line {line}: division must be a number.") from exc


def code_usage(kind: str, rows) -> dict[tuple[int, str], tuple[int, int]]:
    """{(division id, code): (synced items using the code, flagged because of it)} for reference
    rows (GL accounts or cost centers). Flagged because of it: the code had no mapping when the
    item was written, or Monday.com did not take the mapped value (its column was left empty)."""
    rows = list(rows)
    key = SNAPSHOT_KEYS[kind]
    value_key = {"gl_account": "gl_value", "cost_center": "cost_center_value"}[kind]
    divisions = {(r.division.connection_id, r.division.code): r.division_id for r in rows}
    records = (
        SyncedRecord.objects.filter(
            route__exact_connection_id__in={conn for conn, _ in divisions},
            division__in={code for _, code in divisions},
            **{f"snapshot__{key}__in": sorted({r.code for r in rows})},
        )
        .select_related("route")
        .only("state", "division", "snapshot", "route__columns", "route__exact_connection_id")
    )
    usage: dict[tuple[int, str], tuple[int, int]] = {}
    for rec in records:
        division_id = divisions.get((rec.route.exact_connection_id, rec.division))
        if division_id is None:
            continue
        snap = rec.snapshot or {}
        column = rec.route.column(kind)
        because = (
            rec.state == SyncedRecord.State.FLAGGED
            and bool(column)
            and (not snap.get(value_key) or column not in (snap.get("columns") or {}))
        )
        items, flagged = usage.get((division_id, snap[key]), (0, 0))
        usage[(division_id, snap[key])] = (items + 1, flagged + int(because))
    return usage
