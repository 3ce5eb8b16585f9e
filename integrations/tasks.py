"""django-q2 entry points: ids in, one service call out. Schedules live in schedules.py."""

from __future__ import annotations

import logging

from django.utils import timezone

logger = logging.getLogger(__name__)


def heartbeat() -> str:
    """Proves a worker is alive; the admin reads the last success of this task."""
    return timezone.now().isoformat()


def keep_alive_exact_connections() -> int:
    from integrations.exact.connections import keep_alive_exact_connections as service

    return service()


def refresh_all_reference_data() -> int:
    from mappings.reference import refresh_all_reference_data as service

    return service()


def process_webhook_event(event_id: int) -> str:
    from integrations.sync import inbox

    return inbox.run_job(event_id)


def retry_due_events() -> int:
    from integrations.sync import job_queue

    return job_queue.enqueue_due_events()


def poll_route(route_id: int) -> dict:
    from integrations.models import Route
    from integrations.sync import polling

    route = Route.objects.filter(pk=route_id, enabled=True).first()
    return polling.poll_route(route) if route else {}


def ensure_webhook_subscriptions() -> int:
    from integrations.sync.subscriptions import ensure_webhook_subscriptions as service

    return service()


def check_division_moves() -> int:
    from integrations.sync import polling

    return polling.check_division_moves()


def purge_old_rows() -> dict:
    from integrations.sync import retention

    return retention.purge_old_rows()


def send_alerts() -> int:
    from integrations.sync import alerts

    return alerts.send_alerts()


def send_daily_digest() -> int:
    from integrations.sync import alerts

    return alerts.send_daily_digest()
