"""The audit trail as people read it: actions in words, a person as actor, local time with its
zone, messages and changes in sentences, filters by action, period and person."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

import audit
from audit.acting import ActingUserMiddleware
from audit.display import action_words, change_lines, message_words
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:audit_auditevent_changelist"


@pytest.fixture
def fleur(db):
    return get_user_model().objects.create_user(
        "fleur", "fleur@example.test", "pw", first_name="Fleur", last_name="Finance", is_staff=True
    )


def test_actions_read_as_sentences_and_unknown_names_fall_back_to_words():
    assert action_words("item.flagged") == "Flagged the item for review"
    assert action_words("records.resynced") == "Synced items again on request"
    assert action_words("mappings.reference_refreshed") == (
        "Refreshed GL accounts and cost centers from Exact Online"
    )
    assert action_words("route.board_rolled_over") == "Moved the route on to a new board"
    assert action_words("widget.colour_changed") == "Widget: colour changed"


def test_changes_read_as_field_old_to_new_lines_and_dict_messages_as_sentences():
    before = {"state": "flagged", "snapshot": {"columns": {"status": "Open", "cc": ""}}}
    after = {"state": "synced", "snapshot": {"columns": {"status": "Open", "cc": "P303"}}}
    assert change_lines(before, after) == [
        "state: flagged → synced",
        "snapshot columns cc: (empty) → P303",
    ]
    assert change_lines(None, {"cost_centers": 4}) == ["cost centers: 4"]
    assert message_words("{'synced': 3, 'flagged': 1, 'failed': 0}") == (
        "3 synced, 1 flagged, 0 failed."
    )
    assert message_words("All mappings resolved.") == "All mappings resolved."


def test_a_component_acting_for_a_signed_in_person_is_recorded_as_that_person(fleur):
    """A re-sync from the review queue runs inline in the request with actor "manual"."""
    request = RequestFactory().post("/admin/")
    request.user = fleur
    middleware = ActingUserMiddleware(
        lambda r: audit.record("item.updated", actor="manual") and HttpResponse()
    )
    middleware(request)
    outside = audit.record("item.updated", actor="poll")  # background work stays a component
    event = AuditEvent.objects.get(action="item.updated", actor_user__isnull=False)
    assert event.actor_user == fleur and event.actor == "fleur"
    assert outside.actor_user is None and outside.actor == "poll"


def test_changelist_shows_words_person_local_time_with_zone_and_sentences(admin_client, fleur):
    audit.record(
        "records.resynced", actor=fleur, message="{'synced': 2, 'flagged': 1, 'failed': 0}"
    )
    audit.record("item.flagged", actor="sync", message="No cost center mapped for KP-200")
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert "Synced items again on request" in page and "Flagged the item for review" in page
    assert "records.resynced</" not in page and "item.flagged</" not in page
    assert "Fleur Finance" in page and "Automatic sync" in page
    assert "2 synced, 1 flagged, 0 failed." in page and "{&#x27;synced&#x27;" not in page
    zone = timezone.localtime().strftime("%Z")  # CET or CEST, never UTC
    assert zone in ("CET", "CEST") and f" {zone}</" in page


def test_change_page_shows_local_time_and_changes_line_by_line(admin_client):
    event = audit.record(
        "item.unflagged",
        actor="sync",
        before={"state": "flagged"},
        after={"state": "synced"},
        message="All mappings resolved.",
    )
    page = admin_client.get(reverse("admin:audit_auditevent_change", args=[event.pk]))
    html = page.content.decode()
    local = timezone.localtime(event.created_at)
    assert local.strftime("%H:%M:%S %Z") in html
    assert "<li>state: flagged → synced</li>" in html
    assert "{&#x27;state&#x27;" not in html
    # The title (the event's str) is local time too, not UTC.
    assert str(event).startswith(local.strftime("%d %b %Y, %H:%M:%S %Z"))


def test_filters_by_action_period_and_person(admin_client, fleur):
    audit.record("item.flagged", actor="sync", object_id="flagged-one")
    audit.record("mapping.set", actor=fleur, object_id="mapping-one")
    old = audit.record("mapping.set", actor="system", object_id="old-one")
    AuditEvent.objects.filter(pk=old.pk)  # append-only: move it back with a raw update
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "UPDATE audit_auditevent SET created_at = %s WHERE id = %s",
            [timezone.now() - timedelta(days=40), old.pk],
        )
    url = reverse(CHANGELIST)

    def listed(**params):
        cl = admin_client.get(url, params).context["cl"]
        return sorted(e.object_id for e in cl.queryset)

    assert listed(action="mapping.set") == ["mapping-one", "old-one"]
    assert listed(period="30d") == ["flagged-one", "mapping-one"]
    assert listed(action="mapping.set", period="today") == ["mapping-one"]
    assert listed(user=str(fleur.pk)) == ["mapping-one"]
    page = admin_client.get(url).content.decode()
    assert "Past 7 days" in page and "Saved a mapping" in page  # filter choices in words
