from datetime import timedelta

import pytest
from django_q.models import Schedule

from integrations.schedules import SCHEDULES, ensure_schedules

pytestmark = pytest.mark.django_db


def test_ensure_schedules_twice_creates_no_duplicates(route):
    ensure_schedules()
    ensure_schedules()
    names = list(Schedule.objects.values_list("name", flat=True))
    assert len(names) == len(set(names))
    assert set(names) == {s.name for s in SCHEDULES} | {f"poll:{route.pk}"}


def test_poll_schedule_follows_route_interval_and_disappears_when_disabled(route):
    route.poll_interval_minutes = 7
    route.save()
    ensure_schedules()
    assert Schedule.objects.get(name=f"poll:{route.pk}").minutes == 7
    route.enabled = False
    route.save()
    ensure_schedules()
    assert not Schedule.objects.filter(name=f"poll:{route.pk}").exists()


def test_every_scheduled_function_exists():
    import importlib

    for spec in SCHEDULES:
        module, _, name = spec.func.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), spec.func


def _daily():
    return [s for s in SCHEDULES if s.daily_at is not None]


def test_daily_jobs_are_spread_over_the_day_and_none_fires_when_a_route_is_saved(
    exact_connection, monday_connection
):
    from django.utils import timezone

    from integrations.sync.routes import route_saved
    from tests.factories import make_route

    assert len(_daily()) >= 5
    route = make_route(exact_connection, monday_connection)
    route_saved(route, created=True)  # the first route saved applies every schedule
    now = timezone.now()
    times = set()
    for spec in _daily():
        schedule = Schedule.objects.get(name=spec.name)
        assert schedule.schedule_type == Schedule.DAILY
        assert now < schedule.next_run <= now + timedelta(days=1), spec.name
        local = timezone.localtime(schedule.next_run)
        assert (local.hour, local.minute) == (spec.daily_at.hour, spec.daily_at.minute)
        times.add(spec.daily_at)
    assert len(times) == len(_daily())  # each its own time of day
    hours = sorted(t.hour for t in times)
    assert hours[-1] - hours[0] >= len(times) - 1  # at least an hour apart, not bunched


def test_applying_schedules_again_keeps_a_daily_run_that_is_due(db):
    from django.utils import timezone

    ensure_schedules()
    spec = _daily()[0]
    local_now = timezone.localtime()
    due = local_now.replace(hour=spec.daily_at.hour, minute=spec.daily_at.minute, second=0)
    if due > local_now:
        due -= timedelta(days=1)  # its time today has passed; the cluster has not run it yet
    Schedule.objects.filter(name=spec.name).update(next_run=due)
    ensure_schedules()  # e.g. a route saved while the cluster was about to run it
    assert Schedule.objects.get(name=spec.name).next_run == due


def test_an_old_every_1440_minutes_schedule_moves_to_its_time_of_day(db):
    from django.utils import timezone

    spec = _daily()[0]
    Schedule.objects.create(
        name=spec.name,
        func=spec.func,
        schedule_type=Schedule.MINUTES,
        minutes=60 * 24,
        next_run=timezone.now(),
    )
    ensure_schedules()
    schedule = Schedule.objects.get(name=spec.name)
    assert schedule.schedule_type == Schedule.DAILY
    assert timezone.localtime(schedule.next_run).time().replace(second=0, microsecond=0) == (
        spec.daily_at
    )


def test_the_next_daily_run_keeps_the_local_time_across_a_dst_change():
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from integrations.schedules import next_daily_run

    amsterdam = ZoneInfo("Europe/Amsterdam")
    # Saturday 28 March 2026, 23:00: summer time starts in the night.
    run = next_daily_run(time(0, 40), datetime(2026, 3, 28, 23, 0, tzinfo=amsterdam))
    assert (run.day, run.hour, run.minute) == (29, 0, 40)
    run = next_daily_run(time(3, 40), datetime(2026, 3, 29, 12, 0, tzinfo=amsterdam))
    assert (run.day, run.hour, run.minute, run.utcoffset().seconds) == (30, 3, 40, 7200)
