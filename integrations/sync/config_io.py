"""Export and import routes and their value mappings as JSON (no connections, no secrets)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

import audit
from integrations.errors import IntegrationError
from integrations.models import ExactConnection, ExactDivision, MondayConnection, Route
from integrations.sync.routes import snapshot
from mappings.models import ValueMapping

FORMAT_VERSION = 1


def export_config() -> dict[str, Any]:
    """Every route with its mappings, keyed by names so the file travels between environments."""
    routes = []
    for route in Route.objects.select_related("exact_connection", "monday_connection").order_by(
        "name"
    ):
        data = snapshot(route)
        data["exact_connection"] = route.exact_connection.name
        data["monday_connection"] = route.monday_connection.name
        data["mappings"] = [
            {
                "division": m.division.code,
                "kind": m.kind,
                "code": m.code,
                "monday_value": m.monday_value,
            }
            for m in route.mappings.select_related("division").order_by(
                "division__code", "kind", "code"
            )
        ]
        routes.append(data)
    return {"version": FORMAT_VERSION, "routes": routes}


def _connection(model, name: str):
    found = model.objects.filter(name=name).first()
    if found is None:
        raise IntegrationError(
            f"{model._meta.verbose_name} '{name}' does not exist here.",
            hint="Connect it first (connections and their secrets are never exported).",
        )
    return found


@transaction.atomic
def import_config(data: dict[str, Any], *, user=None) -> dict[str, int]:
    """Create or update routes by name and replace their mappings. All or nothing."""
    if data.get("version") != FORMAT_VERSION or not isinstance(data.get("routes"), list):
        raise IntegrationError("This is not an ml-connector configuration file (version 1).")
    counts = {"routes_created": 0, "routes_updated": 0, "mappings": 0}
    for item in data["routes"]:
        exact = _connection(ExactConnection, item["exact_connection"])
        monday = _connection(MondayConnection, item["monday_connection"])
        fields = {
            k: item[k]
            for k in (
                "enabled",
                "entity",
                "board_id",
                "group_id",
                "division_groups",
                "columns",
                "line_items",
                "line_rule",
                "create_labels_if_missing",
                "poll_interval_minutes",
            )
            if k in item
        }
        fields["backfill_from"] = (
            date.fromisoformat(item["backfill_from"]) if item.get("backfill_from") else None
        )
        route, created = Route.objects.update_or_create(
            name=item["name"],
            defaults={**fields, "exact_connection": exact, "monday_connection": monday},
        )
        divisions = {d.code: d for d in ExactDivision.objects.filter(connection=exact)}
        missing = [code for code in item.get("divisions", []) if code not in divisions]
        if missing:
            raise IntegrationError(
                f"Division(s) {missing} are not reachable through '{exact.name}'."
            )
        route.divisions.set([divisions[code] for code in item.get("divisions", [])])
        route.mappings.all().delete()
        ValueMapping.objects.bulk_create(
            ValueMapping(
                route=route,
                division=divisions[m["division"]],
                kind=m["kind"],
                code=m["code"],
                monday_value=m["monday_value"],
                updated_by=user,
            )
            for m in item.get("mappings", [])
        )
        counts["mappings"] += len(item.get("mappings", []))
        counts["routes_created" if created else "routes_updated"] += 1
        audit.record("route.imported", actor=user, obj=route, after=snapshot(route))
    from integrations.schedules import ensure_schedules

    ensure_schedules()
    return counts
