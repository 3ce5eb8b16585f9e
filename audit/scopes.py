"""How other apps tell the audit trail's filters about their records. The audit trail is the
bottom layer and imports no app, so the apps register here (integrations/admin/audit_scopes.py):
division names, the routes, and which events concern a route or a document."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q

_division_names: list[Callable[[], dict[int, str]]] = []
_routes: list[Callable[[], list[tuple[str, str]]]] = []
_route_events: list[Callable[[str], Q]] = []
_record_events: list[Callable[[str], Q]] = []
_kinds: list[Callable[[str], list[tuple[str, str]]]] = []
_kind_events: list[Callable[[str], Q | None]] = []


def register(
    *,
    division_names: Callable[[], dict[int, str]] | None = None,
    routes: Callable[[], list[tuple[str, str]]] | None = None,
    route_events: Callable[[str], Q] | None = None,
    record_events: Callable[[str], Q] | None = None,
    kinds: Callable[[str], list[tuple[str, str]]] | None = None,
    kind_events: Callable[[str], Q | None] | None = None,
) -> None:
    """Add an app's answers. Each callable is asked per request; registering twice is harmless."""
    for hooks, fn in (
        (_division_names, division_names),
        (_routes, routes),
        (_route_events, route_events),
        (_record_events, record_events),
        (_kinds, kinds),
        (_kind_events, kind_events),
    ):
        if fn is not None and fn not in hooks:
            hooks.append(fn)


def division_names() -> dict[int, str]:
    names: dict[int, str] = {}
    for fn in _division_names:
        names.update(fn())
    return names


def routes() -> list[tuple[str, str]]:
    return [choice for fn in _routes for choice in fn()]


def _any(hooks: list[Callable[[str], Q]], value: str) -> Q:
    condition = Q(pk__in=[])  # nothing, unless an app knows the value
    for fn in hooks:
        condition |= fn(value)
    return condition


def route_events(route_id: str) -> Q:
    """The events about a route: the route itself and what belongs to it."""
    return _any(_route_events, route_id)


def record_events(text: str) -> Q:
    """The events about the document(s) an Exact number or key names."""
    return _any(_record_events, text)


def kinds(object_type: str) -> list[tuple[str, str]]:
    """Finer kinds an app splits an object type into ("Sales invoice item", "Purchase order
    item" for one model), as (filter value, words); [] when it does not split it."""
    return [choice for fn in _kinds for choice in fn(object_type)]


def kind_events(value: str) -> Q | None:
    """The events of a finer kind from kinds(); None when no app knows the value."""
    for fn in _kind_events:
        condition = fn(value)
        if condition is not None:
            return condition
    return None
