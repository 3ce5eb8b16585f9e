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
