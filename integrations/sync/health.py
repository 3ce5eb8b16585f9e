"""Connection health at a glance for the admin index and /healthz (read-only selectors)."""

from __future__ import annotations

from datetime import timedelta

from django.apps import apps
from django.db.models import Max, Min
from django.utils import timezone

from integrations.models import (
    ConnectionStatus,
    ExactConnection,
    MondayConnection,
    PollCursor,
    RateBudget,
    SyncedRecord,
    WebhookEvent,
)

# The heartbeat schedule runs every minute (schedules.py): three missed beats mean no worker.
WORKER_SILENCE_LIMIT = timedelta(minutes=3)

WAITING_STATES = [
    WebhookEvent.State.PENDING,
    WebhookEvent.State.PROCESSING,
    WebhookEvent.State.WAITING,
]


def worker_last_seen():
    from django_q.models import Success

    return (
        Success.objects.filter(func="integrations.tasks.heartbeat")
        .order_by("-stopped")
        .values_list("stopped", flat=True)
        .first()
    )


def exact_health(conn: ExactConnection) -> dict:
    now = timezone.now()
    budgets = RateBudget.objects.filter(connection=conn)
    limited = budgets.filter(minutely_remaining=0, minutely_reset_at__gt=now).aggregate(
        until=Max("minutely_reset_at")
    )["until"]
    records = SyncedRecord.objects.filter(route__exact_connection=conn)
    idle_days = (now - conn.refreshed_at).days if conn.refreshed_at else None
    return {
        "kind": "Exact Online",
        "name": conn.name,
        "status": conn.get_status_display()
        if not limited
        else f"Rate limited until {limited:%H:%M:%S}",
        "status_key": "needs_reauth"
        if conn.status == ConnectionStatus.NEEDS_REAUTH
        else ("limited" if limited else conn.status),
        "last_sync": PollCursor.objects.filter(route__exact_connection=conn).aggregate(
            last=Max("last_success_at")
        )["last"]
        or records.aggregate(last=Max("synced_at"))["last"],
        "events_waiting": WebhookEvent.objects.filter(state__in=WAITING_STATES).count(),
        "flagged": records.filter(state=SyncedRecord.State.FLAGGED).count(),
        "budget": budgets.aggregate(left=Min("daily_remaining"))["left"],
        "budget_label": "Exact Online calls left today",
        # The refresh token dies after 30 idle days; warn a week ahead.
        "warning": f"Refresh token idle for {idle_days} days: re-authorize soon."
        if idle_days is not None and idle_days >= 23
        else "",
    }


def monday_health(conn: MondayConnection) -> dict:
    return {
        "kind": "Monday.com",
        "name": conn.name,
        "status": conn.get_status_display(),
        "status_key": conn.status,
        "last_sync": SyncedRecord.objects.filter(route__monday_connection=conn).aggregate(
            last=Max("synced_at")
        )["last"],
        "events_waiting": None,
        "flagged": SyncedRecord.objects.filter(
            route__monday_connection=conn, state=SyncedRecord.State.FLAGGED
        ).count(),
        "budget": conn.complexity_remaining,
        "budget_label": "Monday.com points left this minute",
        "warning": conn.last_error if conn.status != ConnectionStatus.CONNECTED else "",
    }


def connection_health() -> dict:
    last_seen = worker_last_seen()
    return {
        "connections": [exact_health(c) for c in ExactConnection.objects.all()]
        + [monday_health(c) for c in MondayConnection.objects.all()],
        "worker_last_seen": last_seen,
        "worker_ok": bool(last_seen and timezone.now() - last_seen < WORKER_SILENCE_LIMIT),
    }


def worker_check() -> dict:
    """The background worker, judged by the heartbeat task's last success (as the admin index
    does). Until WORKER_SILENCE_LIMIT has passed since this process started, a missing beat
    reads "starting": a freshly started stack is not reported dead."""
    now = timezone.now()
    last_seen = worker_last_seen()
    seen = last_seen.isoformat() if last_seen else None
    if last_seen and now - last_seen < WORKER_SILENCE_LIMIT:
        return {"status": "ok", "last_seen": seen}
    started_at = getattr(apps.get_app_config("integrations"), "started_at", None) or now
    if now - started_at < WORKER_SILENCE_LIMIT:
        return {"status": "starting", "last_seen": seen}
    minutes = int(WORKER_SILENCE_LIMIT.total_seconds() // 60)
    message = (
        f"No background worker heartbeat in the last {minutes} minutes "
        f"({f'last seen {seen}' if seen else 'never seen'}): start python manage.py qcluster "
        "(and run python manage.py setup_schedules once if it never ran)."
    )
    return {"status": "missing", "last_seen": seen, "message": message}


def connections_check() -> dict:
    """Connections waiting for an admin to re-authorize them, by kind and id (never names or
    errors: /healthz is public)."""
    fixes = (
        (ExactConnection, "Exact Online", "Re-authorize it under Exact Online connections"),
        (
            MondayConnection,
            "Monday.com",
            "give it a new API token or reconnect with OAuth under Monday.com connections",
        ),
    )
    waiting = [
        f"{kind} connection {pk} needs re-authorization: {fix} in the admin."
        for model, kind, fix in fixes
        for pk in model.objects.filter(status=ConnectionStatus.NEEDS_REAUTH)
        .order_by("pk")
        .values_list("pk", flat=True)
    ]
    if not waiting:
        return {"status": "ok"}
    return {"status": "needs_reauthorization", "message": " ".join(waiting)}


def queue_depth() -> dict:
    """Jobs waiting in django-q2's queue, from the configured broker: the OrmQ table (with the
    age of its oldest lock) or the Redis list every web server and worker shares. A Redis that
    does not answer is reported, not raised: /healthz and /metrics must still answer."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.models import OrmQ

    if Conf.ORM:
        oldest = OrmQ.objects.order_by("lock", "id").values_list("lock", flat=True).first()
        return {
            "status": "ok",
            "broker": "orm",
            "queued": OrmQ.objects.count(),
            "oldest_lock": oldest.isoformat() if oldest else None,
        }
    from redis.exceptions import RedisError

    try:
        queued = get_broker().queue_size()
    except RedisError:
        return {
            "status": "unreachable",
            "broker": "redis",
            "queued": None,
            "message": "Redis does not answer: check REDIS_URL and the server.",
        }
    return {"status": "ok", "broker": "redis", "queued": queued}
