"""Every django-q2 schedule, declared as data here and applied with ensure_schedules()."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str  # dotted path to a task in integrations/tasks.py
    minutes: int
    kwargs: dict = field(default_factory=dict)  # primitives only, never model instances


# Global schedules. Per-route polling schedules are named "poll:<route id>" and are added by
# route_schedules() from the routes in the database.
SCHEDULES: list[ScheduleSpec] = [
    ScheduleSpec("heartbeat", "integrations.tasks.heartbeat", minutes=1),
    ScheduleSpec(
        "exact-keep-alive", "integrations.tasks.keep_alive_exact_connections", minutes=60 * 24
    ),
    ScheduleSpec(
        "reference-data", "integrations.tasks.refresh_all_reference_data", minutes=60 * 24
    ),
    ScheduleSpec("division-moves", "integrations.tasks.check_division_moves", minutes=60 * 24),
    ScheduleSpec("retry-due-events", "integrations.tasks.retry_due_events", minutes=1),
    ScheduleSpec(
        "webhook-subscriptions", "integrations.tasks.ensure_webhook_subscriptions", minutes=60 * 24
    ),
]


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
        Schedule.objects.update_or_create(
            name=spec.name,
            defaults={
                "func": spec.func,
                "kwargs": spec.kwargs,
                "schedule_type": Schedule.MINUTES,
                "minutes": spec.minutes,
                "repeats": -1,
            },
        )
    wanted = {spec.name for spec in specs}
    stale = Schedule.objects.exclude(name__in=wanted).filter(func__startswith="integrations.")
    deleted, _ = stale.delete()
    return {"schedules": len(specs), "deleted": deleted}
