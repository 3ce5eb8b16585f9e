"""Every django-q2 schedule, declared as data here and applied with ensure_schedules().

Shared state: schedules are django-q2 Schedule rows (PostgreSQL). Every qcluster runs the
scheduler, which takes the due rows under select_for_update and moves next_run in the same
transaction, so with clusters on many machines each run still fires once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str  # dotted path to a task in integrations/tasks.py
    minutes: int = 0  # every N minutes, or:
    daily_at: time | None = None  # once a day at this local time (settings.TIME_ZONE)
    kwargs: dict = field(default_factory=dict)  # primitives only, never model instances


# Global schedules. Per-route polling schedules are named "poll:<route id>" and are added by
# route_schedules() from the routes in the database.
# The daily jobs each have their own time of night, an hour apart (02:00-03:00 left out: the
# hour daylight saving skips or repeats in Europe): they never pile onto the workers (and
# Exact's minutely limit) together, and none fires at once when the schedules are first
# applied (setup_schedules, or the first route saved).
SCHEDULES: list[ScheduleSpec] = [
    ScheduleSpec("heartbeat", "integrations.tasks.heartbeat", minutes=1),
    ScheduleSpec("retry-due-events", "integrations.tasks.retry_due_events", minutes=1),
    ScheduleSpec(
        "exact-keep-alive", "integrations.tasks.keep_alive_exact_connections", daily_at=time(0, 40)
    ),
    ScheduleSpec(
        "reference-data", "integrations.tasks.refresh_all_reference_data", daily_at=time(1, 40)
    ),
    ScheduleSpec("division-moves", "integrations.tasks.check_division_moves", daily_at=time(3, 40)),
    ScheduleSpec(
        "webhook-subscriptions",
        "integrations.tasks.ensure_webhook_subscriptions",
        daily_at=time(4, 40),
    ),
    ScheduleSpec("retention", "integrations.tasks.purge_old_rows", daily_at=time(5, 40)),
    # Alert emails: conditions checked every 5 minutes (each mailed once, sync/alerts.py); the
    # reviewers' digest in the next free hour slot, in their inbox before the working day.
    ScheduleSpec("alerts", "integrations.tasks.send_alerts", minutes=5),
    ScheduleSpec("daily-digest", "integrations.tasks.send_daily_digest", daily_at=time(6, 40)),
]


def next_daily_run(at: time, now: datetime | None = None) -> datetime:
    """The next moment the local clock shows `at` (today or tomorrow)."""
    local = timezone.localtime(now)
    run = local.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    if run <= local:
        run += timedelta(days=1)  # wall-clock arithmetic: still `at` across a DST change
    return run


def route_schedules() -> list[ScheduleSpec]:
    from integrations.models import Route

    return [
        ScheduleSpec(
            f"poll:{route.pk}",
            "integrations.tasks.poll_route",
            minutes=max(1, route.poll_interval_minutes),
            kwargs={"route_id": route.pk},
        )
        for route in Route.objects.filter(enabled=True)
    ]


@transaction.atomic
def ensure_schedules() -> dict[str, int]:
    """Create or update every declared schedule and delete stale ones. Idempotent."""
    from django_q.models import Schedule

    specs = SCHEDULES + route_schedules()
    for spec in specs:
        every = (
            {"schedule_type": Schedule.DAILY, "minutes": None}
            if spec.daily_at
            else {"schedule_type": Schedule.MINUTES, "minutes": spec.minutes}
        )
        schedule, created = Schedule.objects.update_or_create(
            name=spec.name,
            defaults={"func": spec.func, "kwargs": spec.kwargs, "repeats": -1, **every},
        )
        if spec.daily_at and (created or not _runs_at(schedule, spec.daily_at)):
            schedule.next_run = next_daily_run(spec.daily_at)
            schedule.save(update_fields=["next_run"])
    wanted = {spec.name for spec in specs}
    stale = Schedule.objects.exclude(name__in=wanted).filter(func__startswith="integrations.")
    deleted, _ = stale.delete()
    return {"schedules": len(specs), "deleted": deleted}


def _runs_at(schedule, at: time) -> bool:
    """True when the schedule's next run is at `at` local time. A due run keeps its place:
    django-q2 moves a DAILY schedule on by a day, keeping the local time across DST."""
    if schedule.next_run is None:
        return False
    local = timezone.localtime(schedule.next_run)
    return (local.hour, local.minute) == (at.hour, at.minute)
