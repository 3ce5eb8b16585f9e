"""Which routes an Exact topic and division feed (pure lookups over Route rows)."""

from __future__ import annotations

from integrations.models import Entity, Route

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
