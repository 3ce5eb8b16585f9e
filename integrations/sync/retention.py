"""Retention: the daily purge of finished work older than RETENTION_DAYS. Never the audit trail."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

import audit
from integrations.models import WebhookEvent

# Deleted in slices, each its own short statement, so a large first purge never holds locks
# on the inbox for long while webhooks keep arriving.
BATCH = 1000


def purge_old_rows() -> dict[str, int]:
    """Delete webhook events that ended done (or were ignored on receipt) and django-q task
    results, older than RETENTION_DAYS. Pending, waiting and dead events stay whatever their age:
    they still need work or a person. Returns the counts; idempotent."""
    from django_q.models import Task  # Success and Failure are proxies of Task

    days = settings.RETENTION_DAYS
    cutoff = timezone.now() - timedelta(days=days)
    State = WebhookEvent.State
    events = WebhookEvent.objects.filter(
        Q(state=State.DONE, processed_at__lt=cutoff)
        | Q(state=State.IGNORED, received_at__lt=cutoff)
    )
    counts = {
        "webhook_events": _delete_in_batches(events),
        "tasks": _delete_in_batches(Task.objects.filter(stopped__lt=cutoff)),
    }
    audit.record("retention.purged", actor="retention", after={**counts, "days": days})
    return counts


def _delete_in_batches(queryset) -> int:
    deleted = 0
    while True:
        pks = list(queryset.values_list("pk", flat=True)[:BATCH])
        if not pks:
            return deleted
        count, _ = queryset.model.objects.filter(pk__in=pks).delete()
        deleted += count
