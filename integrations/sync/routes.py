"""Route services: saving a route keeps its poll schedule and the audit trail up to date."""

from __future__ import annotations

import audit
from integrations.models import Route
from integrations.schedules import ensure_schedules


def snapshot(route: Route) -> dict:
    return {
        "name": route.name,
        "enabled": route.enabled,
        "entity": route.entity,
        "board_id": route.board_id,
        "group_id": route.group_id,
        "division_groups": route.division_groups,
        "columns": route.columns,
        "line_items": route.line_items,
        "line_rule": route.line_rule,
        "create_labels_if_missing": route.create_labels_if_missing,
        "poll_interval_minutes": route.poll_interval_minutes,
        "board_item_limit": route.board_item_limit,
        "board_name_rule": route.board_name_rule,
        "board_period": route.board_period,
        "backfill_from": route.backfill_from.isoformat() if route.backfill_from else None,
        "divisions": sorted(route.divisions.values_list("code", flat=True)) if route.pk else [],
    }


def route_saved(route: Route, *, user=None, created: bool = False) -> None:
    """Apply the route's poll schedule and audit the change."""
    ensure_schedules()
    audit.record(
        "route.created" if created else "route.changed",
        actor=user,
        obj=route,
        after=snapshot(route),
    )
