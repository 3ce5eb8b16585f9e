"""The daily retention job: done webhook events and django-q task rows older than RETENTION_DAYS
go; everything still needing attention, and the audit trail, stay."""

from datetime import timedelta
from uuid import uuid4

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task

from audit.models import AuditEvent
from integrations import tasks
from integrations.models import WebhookEvent
from integrations.sync import retention

pytestmark = pytest.mark.django_db
State = WebhookEvent.State


def _event(state, *, age_days, **kw):
    when = timezone.now() - timedelta(days=age_days)
    processed = when if state in (State.DONE, State.DEAD) else None
    return WebhookEvent.objects.create(
        dedupe_key=uuid4().hex,
        topic="SalesInvoices",
        action="update",
        division=101,
        exact_key=str(uuid4()),
        raw_body="{}",
        state=state,
        received_at=when,
        processed_at=processed,
        **kw,
    )


def _task(*, age_days, success=True):
    stopped = timezone.now() - timedelta(days=age_days)
    return Task.objects.create(
        id=uuid4().hex,
        name=uuid4().hex,
        func="integrations.tasks.heartbeat",
        started=stopped - timedelta(seconds=1),
        stopped=stopped,
        success=success,
    )


def test_rows_past_the_line_go_and_rows_inside_it_stay():
    assert settings.RETENTION_DAYS == 90
    old_done = _event(State.DONE, age_days=91)
    old_ignored = _event(State.IGNORED, age_days=91)
    kept = [
        _event(State.DONE, age_days=89),
        _event(State.DEAD, age_days=400),  # needs a person: never purged
        _event(State.WAITING, age_days=400),
        _event(State.PENDING, age_days=400),
    ]
    old_success, old_failure = _task(age_days=91), _task(age_days=91, success=False)
    recent = [_task(age_days=89), _task(age_days=1, success=False)]
    with time_machine.travel(timezone.now() - timedelta(days=200)):
        audit_old = AuditEvent.objects.create(action="webhook.accepted", actor="webhook")
    OrmQ.objects.create(key="mlconnector", payload="x", lock=timezone.now() - timedelta(days=200))
    Schedule.objects.create(name="heartbeat", func="integrations.tasks.heartbeat")

    result = tasks.purge_old_rows()

    assert result == {"webhook_events": 2, "tasks": 2}
    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {e.pk for e in kept}
    assert not WebhookEvent.objects.filter(pk__in=[old_done.pk, old_ignored.pk]).exists()
    assert set(Task.objects.values_list("id", flat=True)) == {t.id for t in recent}
    assert not Task.objects.filter(id__in=[old_success.id, old_failure.id]).exists()
    assert AuditEvent.objects.filter(pk=audit_old.pk).exists()  # the audit trail is never touched
    assert OrmQ.objects.count() == 1 and Schedule.objects.count() == 1
    purge = AuditEvent.objects.get(action="retention.purged")
    assert purge.after == {"webhook_events": 2, "tasks": 2, "days": 90}


def test_the_line_follows_the_setting(settings):
    settings.RETENTION_DAYS = 30
    _event(State.DONE, age_days=31)
    _event(State.DONE, age_days=29)
    _task(age_days=31)
    assert retention.purge_old_rows() == {"webhook_events": 1, "tasks": 1}
    assert WebhookEvent.objects.count() == 1 and Task.objects.count() == 0


def test_large_backlogs_are_deleted_in_batches(monkeypatch):
    monkeypatch.setattr(retention, "BATCH", 3)
    for _ in range(7):
        _event(State.DONE, age_days=100)
    assert retention.purge_old_rows()["webhook_events"] == 7
    assert not WebhookEvent.objects.exists()
