"""Which routes an Exact topic and division feed (pure lookups over Route rows)."""

from __future__ import annotations

import time

from integrations.models import Entity, Route

# has_routes' memory of the (topic, division) pairs that had an enabled route, and until when
# (time.monotonic()): a burst of webhooks asks hundreds of times a second.
_ROUTED: dict[tuple[str, int], float] = {}
ROUTED_FOR = 5.0  # seconds

# Reference: exact-online.md §7.3 / §5.5. Topics for our entities; purchase invoices have no
# confirmed topic and are polled only.
TOPIC_ENTITIES: dict[str, str] = {
    "SalesInvoices": Entity.SALES_INVOICE,
    "PurchaseOrders": Entity.PURCHASE_ORDER,
    "SalesOrders": Entity.SALES_ORDER,
}
ENTITY_TOPICS = {entity: topic for topic, entity in TOPIC_ENTITIES.items()}


def routes_for(topic: str, division: int | None):
    """Enabled routes of the topic's entity that sync this division (selected on the route)."""
    entity = TOPIC_ENTITIES.get(topic)
    if entity is None or division is None:
        return Route.objects.none()
    return (
        Route.objects.filter(
            enabled=True,
            entity=entity,
            divisions__code=division,
            divisions__selected=True,
        )
        .select_related("exact_connection", "monday_connection")
        .distinct()
    )


def has_routes(topic: str, division: int | None) -> bool:
    """Whether an enabled route syncs the topic for this division, as a webhook's receipt asks.

    A yes is remembered for ROUTED_FOR seconds in this process (a route switched off meanwhile
    costs nothing: the job finds no route and ignores the event, saying so); a no is never
    remembered, so a route just switched on takes its first webhook. forget_routes() clears it
    when a route or division changes in this process."""
    key = (topic, division)
    if _ROUTED.get(key, 0.0) > time.monotonic():
        return True
    if not routes_for(topic, division).exists():
        return False
    _ROUTED[key] = time.monotonic() + ROUTED_FOR
    return True


def forget_routes(**_kwargs) -> None:
    _ROUTED.clear()
