"""The Monday values a mapping may use: the board column's labels (status, dropdown) as discovered
and cached in MondayBoard, or for text columns the values already used in this route's mappings.
A value the board would refuse is caught here, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.models import MondayBoard, Route
from integrations.monday.columns import (
    column_from_dict,
    column_labels,
    match_label,
    unknown_label_message,
)
from mappings.models import ValueMapping

LABEL_TYPES = frozenset({"status", "dropdown"})


@dataclass(frozen=True)
class ColumnValues:
    """What a route's GL account or cost center column accepts."""

    column_title: str
    values: tuple[str, ...]
    # True: the board accepts only `values` (a status/dropdown column, and the route may not
    # create labels). False: `values` are suggestions (text column, or labels may be created).
    closed: bool


def board_of(route: Route) -> MondayBoard | None:
    return MondayBoard.objects.filter(
        connection_id=route.monday_connection_id, board_id=route.board_id
    ).first()


def column_values(
    route: Route, kind: str, *, board: MondayBoard | None = None, used: dict | None = None
) -> ColumnValues | None:
    """The values the route's column for `kind` accepts; None when the route has no such column.

    `board` and `used` ({(route id, kind): [values]}) can be handed in when many rows share them.
    """
    column_id = route.column(kind)
    if not column_id:
        return None
    board = board if board is not None else board_of(route)
    raw = next((c for c in (board.columns if board else []) if c.get("id") == column_id), None)
    if used is None:
        used = used_values([route])
    suggestions = sorted(set(used.get((route.pk, kind), [])), key=str.casefold)
    if raw is None:  # the board was not read (yet): nothing to check against
        return ColumnValues(column_id, tuple(suggestions), closed=False)
    column = column_from_dict(raw)
    title = column.title or column.id
    if column.type in LABEL_TYPES:
        labels = column_labels(column)
        if route.create_labels_if_missing:
            extra = [v for v in suggestions if match_label(v, labels) is None]
            return ColumnValues(title, tuple(labels + extra), closed=False)
        return ColumnValues(title, tuple(labels), closed=True)
    return ColumnValues(title, tuple(suggestions), closed=False)


def used_values(routes) -> dict[tuple[int, str], list[str]]:
    """{(route id, kind): the Monday values its mappings already use}, one query."""
    out: dict[tuple[int, str], list[str]] = {}
    rows = (
        ValueMapping.objects.filter(route__in=[r.pk for r in routes])
        .values_list("route_id", "kind", "monday_value")
        .distinct()
    )
    for route_id, kind, value in rows:
        out.setdefault((route_id, kind), []).append(value)
    return out


def check_value(route: Route, kind: str, value: str, *, allowed: ColumnValues | None = None) -> str:
    """Empty when the board would accept `value` in the route's column; else why not, in words."""
    value = value.strip()
    if not value:
        return "Choose a value."
    allowed = allowed if allowed is not None else column_values(route, kind)
    if allowed is None or not allowed.closed:
        return ""
    if match_label(value, allowed.values) is not None:
        return ""
    if not allowed.values:
        return (
            f"The Monday.com column “{allowed.column_title}” has no labels yet. Add them on the "
            "board, then refresh the board list under Monday.com connections."
        )
    return unknown_label_message(allowed.column_title, value)


def board_spelling(value: str, allowed: ColumnValues | None) -> str:
    """The board's own spelling of an accepted label (so the mapping stores what Monday shows)."""
    if allowed is None:
        return value.strip()
    return match_label(value.strip(), allowed.values) or value.strip()
