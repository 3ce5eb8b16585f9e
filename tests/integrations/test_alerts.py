"""Alert emails through Django's locmem backend (mail.outbox): to the administrators when a
connection needs re-authorization or nears Exact's 30-day expiry and when events go dead, a
daily digest to the finance reviewers; each once per condition, each switchable per user."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from integrations.exact.tokens import mark_needs_reauth
from integrations.models import AlertPreferences, ConnectionStatus, SyncedRecord, WebhookEvent
from integrations.monday.connections import mark_monday_needs_attention
from integrations.sync.alerts import send_alerts, send_daily_digest
from mappings.roles import ensure_finance_reviewer_group
from tests.factories import ACCESS_TOKEN, MONDAY_TOKEN, REFRESH_TOKEN, make_synced_record

pytestmark = pytest.mark.django_db
BASE = "https://connector.example.test"  # PUBLIC_BASE_URL in tests/settings.py
SECRETS = (ACCESS_TOKEN, REFRESH_TOKEN, MONDAY_TOKEN)


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPServerDisconnected("mail server went away")


@pytest.fixture
def second_admin(db):
    return get_user_model().objects.create_superuser("bob", "bob@example.test", "pw-bob-12345")


@pytest.fixture
def reviewer(db):
    user = get_user_model().objects.create_user(
        "rita", "rita@example.test", "pw-rita-123", is_staff=True, first_name="Rita"
    )
    user.groups.add(ensure_finance_reviewer_group())
    return user


def to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def assert_no_secret(message) -> None:
    for secret in SECRETS:
        assert secret not in message.subject and secret not in message.body


def test_a_connection_that_needs_reauthorization_mails_each_admin_once(
    staff_user, second_admin, reviewer, route
):
    conn = route.exact_connection
    mark_needs_reauth(conn, reason="Exact Online refused the refresh token (invalid_grant).")
    assert send_alerts() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@example.test", "bob@example.test"]
    message = to("admin@example.test")[0]
    assert message.subject == (
        "[ml-connector] Exact Online connection “Acme Exact” needs re-authorization"
    )
    assert f"{BASE}/admin/integrations/exactconnection/{conn.pk}/change/" in message.body
    assert "refused the refresh token" in message.body
    assert f"{BASE}{reverse('admin:integrations_alertpreferences_mine')}" in message.body
    assert_no_secret(message)
    assert not to("rita@example.test")  # reviewers are not told about connections

    assert send_alerts() == 0 and send_alerts() == 0  # the same state: never again
    assert len(mail.outbox) == 2


def test_a_second_loss_of_authorization_is_a_new_alert(staff_user, route):
    conn = route.exact_connection
    mark_needs_reauth(conn, reason="invalid_grant")
    send_alerts()
    conn.status = ConnectionStatus.CONNECTED  # re-authorized ...
    conn.save()
    assert send_alerts() == 0
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        mark_needs_reauth(conn, reason="invalid_grant")  # ... and lost again
        assert send_alerts() == 1
    assert len(mail.outbox) == 2


def test_tokens_nearing_the_30_day_idle_expiry_warn_once_with_the_days_left(staff_user, route):
    conn = route.exact_connection
    conn.refreshed_at = timezone.now() - timedelta(days=24)
    conn.save()
    assert send_alerts() == 0  # the warning starts at 25 days
    conn.refreshed_at = timezone.now() - timedelta(days=26, hours=1)
    conn.save()
    assert send_alerts() == 1
    (message,) = mail.outbox
    assert message.subject.endswith("Exact Online connection “Acme Exact” expires in 4 days")
    assert "last renewed 26 days ago" in message.body and "4 days left" in message.body
    assert_no_secret(message)
    assert send_alerts() == 0
    conn.refreshed_at = timezone.now() - timedelta(days=29, hours=1)  # a later idle period
    conn.save()
    assert send_alerts() == 1
    assert mail.outbox[1].subject.endswith("expires in 1 day")


def test_a_monday_connection_that_stops_working_mails_once(staff_user, route):
    conn = route.monday_connection
    mark_monday_needs_attention(conn, reason="Not Authenticated")
    assert send_alerts() == 1
    assert "Monday.com connection “Acme Monday” needs attention" in mail.outbox[0].subject
    assert_no_secret(mail.outbox[0])
    mark_monday_needs_attention(conn, reason="Not Authenticated")  # same state: no new event
    assert send_alerts() == 0


def dead_event(n: int, *, when=None) -> WebhookEvent:
    return WebhookEvent.objects.create(
        dedupe_key=f"dead-{n}",
        topic="SalesInvoices",
        action="Update",
        division=101,
        exact_key=f"00000000-0000-0000-0000-00000000000{n}",
        raw_body='{"secret": "never in a mail"}',
        state=WebhookEvent.State.DEAD,
        last_error="Monday.com is unavailable (HTTP 503).",
        processed_at=when or timezone.now(),
    )


def test_dead_events_are_mailed_once_per_batch(staff_user, reviewer, route):
    dead_event(1)
    dead_event(2)
    assert send_alerts() == 1
    (message,) = mail.outbox
    assert message.to == ["admin@example.test"]
    assert message.subject == "[ml-connector] 2 change notices from Exact Online failed"
    assert message.body.count("Sales invoice changed in division 101 Division 101") == 2
    assert "Monday.com is unavailable (HTTP 503)." in message.body
    assert f"{BASE}{reverse('admin:review_queue')}#dead-events" in message.body
    assert "never in a mail" not in message.body  # no raw webhook body
    assert send_alerts() == 0
    third = dead_event(3, when=timezone.now() + timedelta(seconds=1))
    make_synced_record(route, key=third.exact_key, number="20260042")
    assert send_alerts() == 1
    assert "Sales invoice 20260042 changed in division 101" in mail.outbox[1].body
    assert mail.outbox[1].subject.endswith("1 change notice from Exact Online failed")
    assert "processed after repeated attempts. It waits" in mail.outbox[1].body.replace("\n", " ")


def test_an_admin_who_switched_an_alert_off_is_left_out(staff_user, second_admin, route):
    AlertPreferences.objects.create(user=second_admin, connection=False)
    mark_needs_reauth(route.exact_connection, reason="invalid_grant")
    dead_event(1)
    send_alerts()
    assert [m.subject.split("] ")[1] for m in to("bob@example.test")] == [
        "1 change notice from Exact Online failed"  # dead events still on for Bob
    ]
    assert len(to("admin@example.test")) == 2


def test_a_mail_server_failure_leaves_the_alert_for_the_next_run(staff_user, route):
    mark_needs_reauth(route.exact_connection, reason="invalid_grant")
    with override_settings(EMAIL_BACKEND=f"{__name__}.FailingBackend"):
        assert send_alerts() == 0
    assert send_alerts() == 1  # not lost: sent once the server is back
    assert send_alerts() == 0


def flagged(route, n: int, *, at, account="Bouwbedrijf De Vries BV", amount="1234.5"):
    rec = make_synced_record(route, key=f"k{n}", number=f"2026000{n}")
    rec.snapshot = {**rec.snapshot, "account": account, "amount": amount, "currency": "EUR"}
    rec.flagged_at = at
    rec.save()
    return rec


def test_the_daily_digest_lists_newly_flagged_items_with_links_to_their_rows(
    staff_user, reviewer, route
):
    now = timezone.now()
    old = flagged(route, 1, at=now - timedelta(days=3))  # flagged before: not new
    first = flagged(route, 2, at=now - timedelta(hours=5))
    second = flagged(route, 3, at=now - timedelta(hours=2), account="Jansen Installatie")
    cleared = flagged(route, 4, at=now - timedelta(hours=1))
    SyncedRecord.objects.filter(pk=cleared.pk).update(state=SyncedRecord.State.SYNCED)
    assert send_daily_digest() == 1
    (message,) = mail.outbox
    assert message.to == ["rita@example.test"]  # the reviewers, not the admins
    assert message.subject == "[ml-connector] Review digest: 2 newly flagged items"
    body = message.body
    assert body.startswith("Hello Rita,\n\n2 items were flagged for review since ")
    assert "20260002 · Bouwbedrijf De Vries BV · EUR 1,234.50" in body
    assert "Jansen Installatie" in body and route.name in body
    assert "GL account 8000 has no mapping for the GL account column" in body
    queue = f"{BASE}{reverse('admin:review_queue')}"
    assert f"{queue}?q=20260002#record-{first.pk}" in body
    assert f"{queue}?q=20260003#record-{second.pk}" in body
    assert old.exact_number not in body and cleared.exact_number not in body
    assert f"In all, 3 items wait in the review queue:\n{queue}\n" in body
    assert_no_secret(message)

    assert send_daily_digest() == 0  # the same day: never twice
    with time_machine.travel(now + timedelta(days=1)):
        assert send_daily_digest() == 0  # nothing new: no mail at all
    with time_machine.travel(now + timedelta(days=2)):
        flagged(route, 5, at=timezone.now() - timedelta(minutes=5))
        assert send_daily_digest() == 1
    assert mail.outbox[1].subject.endswith("Review digest: 1 newly flagged item")
    assert "1 item was flagged for review since" in mail.outbox[1].body
    assert "20260005" in mail.outbox[1].body and "20260002" not in mail.outbox[1].body


def test_a_reviewer_who_switched_the_digest_off_gets_none(reviewer, route):
    AlertPreferences.objects.create(user=reviewer, daily_digest=False)
    flagged(route, 1, at=timezone.now())
    assert send_daily_digest() == 0
    assert mail.outbox == []


def test_my_alerts_shows_a_reviewer_only_the_digest_and_saves_the_choice(client, reviewer):
    client.force_login(reviewer)
    url = reverse("admin:integrations_alertpreferences_mine")
    page = client.get(url).content.decode()
    assert 'name="daily_digest"' in page and "rita@example.test" in page
    assert 'name="connection"' not in page and 'name="dead_events"' not in page
    response = client.post(url, {})  # the box unticked
    assert response.status_code == 302
    assert AlertPreferences.objects.get(user=reviewer).daily_digest is False
    event = AuditEvent.objects.get(action="alerts.preferences_changed")
    assert event.actor_user == reviewer and event.after == {"daily_digest": False}
    assert 'name="daily_digest" checked' not in client.get(url).content.decode()


def test_my_alerts_shows_an_admin_the_connection_and_event_alerts(admin_client):
    page = admin_client.get(reverse("admin:integrations_alertpreferences_mine")).content.decode()
    assert 'name="connection"' in page and 'name="dead_events"' in page
    assert 'name="daily_digest"' not in page
    assert "My alerts</a>" in admin_client.get(reverse("admin:index")).content.decode()


def test_the_scheduled_tasks_send_the_alerts_and_the_digest(staff_user, reviewer, route):
    from integrations import tasks
    from integrations.schedules import SCHEDULES

    by_name = {spec.name: spec for spec in SCHEDULES}
    assert by_name["alerts"].func == "integrations.tasks.send_alerts"
    assert by_name["daily-digest"].func == "integrations.tasks.send_daily_digest"
    mark_needs_reauth(route.exact_connection, reason="invalid_grant")
    flagged(route, 1, at=timezone.now())
    assert tasks.send_alerts() == 1 and tasks.send_daily_digest() == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@example.test", "rita@example.test"]
