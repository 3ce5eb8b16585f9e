"""Exact webhook subscriptions: register, list and remove the ones the routes need."""

from __future__ import annotations

import logging
from collections import defaultdict

from django.conf import settings

import audit
from integrations.exact import connections as exact_connections
from integrations.models import ConnectionStatus, ExactConnection, Route
from integrations.sync import routing

logger = logging.getLogger(__name__)


def callback_url() -> str:
    # Reference: exact-online.md §7.1: https, on the same domain as the OAuth redirect URI.
    return f"{settings.PUBLIC_BASE_URL}/webhooks/exact/"


def needed() -> dict[ExactConnection, dict[int, set[str]]]:
    """connection -> division -> topics, from enabled routes of entities that have a topic."""
    wanted: dict = defaultdict(lambda: defaultdict(set))
    routes = Route.objects.filter(enabled=True).select_related("exact_connection")
    for route in routes.prefetch_related("divisions"):
        topic = routing.ENTITY_TOPICS.get(route.entity)
        if topic is None:
            continue  # purchase invoices: no webhook topic, polled only
        for division in route.divisions.all():
            if division.selected:
                wanted[route.exact_connection][division.code].add(topic)
    return wanted


def list_subscriptions() -> list[dict]:
    """Our subscriptions as Exact reports them, per connection and division."""
    rows = []
    for conn, divisions in needed().items():
        client = exact_connections.for_connection(conn)
        for division in sorted(divisions):
            for sub in client.list_webhook_subscriptions(division):
                rows.append({"connection": conn.name, "division": division, **sub})
    return rows


def register_subscriptions(*, user=None) -> dict[str, int]:
    """Create every needed subscription that Exact does not have. Idempotent."""
    counts = {"created": 0, "present": 0}
    url = callback_url()
    for conn, divisions in needed().items():
        if conn.status != ConnectionStatus.CONNECTED:
            continue
        client = exact_connections.for_connection(conn)
        for division, topics in sorted(divisions.items()):
            existing = {
                s.get("Topic")
                for s in client.list_webhook_subscriptions(division)
                if s.get("CallbackURL") == url
            }
            for topic in sorted(topics - existing):
                client.create_webhook_subscription(division, topic=topic, callback_url=url)
                counts["created"] += 1
                audit.record(
                    "webhook.subscribed",
                    actor=user or "scheduler",
                    obj=conn,
                    division=division,
                    after={"topic": topic, "callback_url": url},
                )
            counts["present"] += len(topics & existing)
    return counts


def remove_subscriptions(*, user=None, division: int | None = None) -> int:
    """Delete our subscriptions (all, or one division's). Returns how many were removed."""
    removed = 0
    url = callback_url()
    for conn, divisions in needed().items():
        client = exact_connections.for_connection(conn)
        for code in sorted(divisions):
            if division is not None and code != division:
                continue
            for sub in client.list_webhook_subscriptions(code):
                if sub.get("CallbackURL") != url:
                    continue
                client.delete_webhook_subscription(code, sub["ID"])
                removed += 1
                audit.record(
                    "webhook.unsubscribed",
                    actor=user,
                    obj=conn,
                    division=code,
                    before={"topic": sub.get("Topic")},
                )
    return removed


def ensure_webhook_subscriptions() -> int:
    """Daily check: re-create subscriptions that disappeared. Returns how many were created."""
    return register_subscriptions()["created"]
