import pytest
from django.urls import reverse

import audit
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_record_strips_secrets_from_before_and_after(staff_user):
    event = audit.record(
        "exact.connected",
        actor=staff_user,
        before={"status": "not_connected", "access_token": "abc"},
        after={"status": "connected", "nested": {"refresh_token": "def", "division": 5}},
    )
    event.refresh_from_db()
    assert event.actor == "admin"
    assert event.before == {"status": "not_connected", "access_token": "[redacted]"}
    assert event.after["nested"] == {"refresh_token": "[redacted]", "division": 5}


def test_record_names_system_actor_and_object(exact_connection):
    event = audit.record("exact.token_refreshed", actor="scheduler", obj=exact_connection)
    assert event.actor == "scheduler"
    assert event.object_type == "integrations.ExactConnection"
    assert event.object_id == str(exact_connection.pk)


def test_audit_events_cannot_be_changed_or_deleted_in_code():
    event = audit.record("test.action")
    event.message = "edited"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.update(message="x")


def test_audit_admin_is_read_only(admin_client):
    event = audit.record("test.action", message="hello")
    change_url = reverse("admin:audit_auditevent_change", args=[event.pk])
    page = admin_client.get(change_url)
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    delete = admin_client.post(
        reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    admin_client.post(change_url, {"message": "tampered"})
    assert AuditEvent.objects.get(pk=event.pk).message == "hello"


def test_audit_admin_exports_csv(admin_client):
    audit.record("exact.connected", message="first", division=7)
    response = admin_client.post(
        reverse("admin:audit_auditevent_changelist"),
        {
            "action": "export_csv",
            "_selected_action": list(AuditEvent.objects.values_list("pk", flat=True)),
        },
    )
    assert response["Content-Type"] == "text/csv"
    body = response.content.decode()
    assert "exact.connected" in body and "first" in body
