"""The progress endpoints and buttons in the admin: staff only, POST to act, audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from integrations.models import SyncRun

pytestmark = pytest.mark.django_db


def _url(name, route):
    return reverse(f"admin:route_{name}", args=[route.pk])


def test_progress_json_is_for_staff_only(client, plain_user, route):
    assert client.get(_url("progress", route)).status_code == 302  # to the login page
    client.force_login(plain_user)
    response = client.get(_url("progress", route))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(reverse("admin:sync_progress")).status_code == 302


def test_sync_now_pause_and_resume_from_the_route_page(admin_client, route, staff_user):
    assert admin_client.get(_url("progress", route)).json()["run"] is None
    assert admin_client.get(_url("sync_now", route)).status_code == 405  # POST only

    data = admin_client.post(_url("sync_now", route)).json()
    assert data["run"]["state"] == "queued" and data["can_change"]
    assert data["run"]["headline"] == (
        "Waiting for a worker to start reading the sales invoices from Exact Online."
    )
    again = admin_client.post(_url("sync_now", route)).json()
    assert again["run"]["id"] == data["run"]["id"]  # pressing twice starts one run
    assert SyncRun.objects.count() == 1

    paused = admin_client.post(_url("pause", route)).json()["run"]
    assert paused["state"] == "paused" and paused["can_resume"]  # no poll was running
    resumed = admin_client.post(_url("resume", route)).json()["run"]
    assert resumed["state"] == "queued" and resumed["can_pause"]
    assert list(
        AuditEvent.objects.filter(action__startswith="sync.")
        .order_by("pk")
        .values_list("action", "actor_user")
    ) == [
        ("sync.started", staff_user.pk),
        ("sync.paused", staff_user.pk),
        ("sync.resumed", staff_user.pk),
    ]


def test_pause_while_a_poll_runs_waits_for_the_batch_boundary(admin_client, route):
    from django.utils import timezone

    from integrations.models import PollCursor

    admin_client.post(_url("sync_now", route))
    SyncRun.objects.update(state=SyncRun.State.RUNNING)
    PollCursor.objects.create(
        route=route, division=101, feed=route.entity, running_since=timezone.now()
    )
    run = admin_client.post(_url("pause", route)).json()["run"]
    assert run["state"] == "running" and run["state_label"] == "Pausing after the current batch"
    assert not run["can_pause"]


def test_route_page_and_admin_home_carry_the_progress_panels(admin_client, route):
    page = admin_client.get(reverse("admin:integrations_route_change", args=[route.pk]))
    html = page.content.decode()
    assert 'id="sync-progress-route"' in html
    assert f'data-url="{_url("progress", route)}"' in html
    assert "No sync has run from this page yet." in html
    home = admin_client.get(reverse("admin:index")).content.decode()
    assert 'id="sync-progress-home"' in home
    assert f'data-url="{reverse("admin:sync_progress")}"' in home


def test_admin_home_json_lists_open_and_lately_finished_runs(admin_client, route):
    admin_client.post(_url("sync_now", route))
    runs = admin_client.get(reverse("admin:sync_progress")).json()["runs"]
    assert [r["route_name"] for r in runs] == [route.name]
    assert runs[0]["route_url"] == reverse("admin:integrations_route_change", args=[route.pk])


def test_sync_now_action_links_to_the_route_pages(admin_client, route):
    response = admin_client.post(
        reverse("admin:integrations_route_changelist"),
        {"action": "sync_now", "_selected_action": [route.pk]},
        follow=True,
    )
    text = response.content.decode()
    change = reverse("admin:integrations_route_change", args=[route.pk])
    assert f'Sync started for <a href="{change}">{route.name}</a>' in text
    assert "Poll cursors page" not in text  # the old message's pointer to sync jargon
    assert SyncRun.objects.get().requested_by is not None


def test_a_run_waiting_on_a_connection_that_needs_reauthorization_says_so(admin_client, route):
    from integrations import tasks
    from integrations.models import ConnectionStatus

    admin_client.post(_url("sync_now", route))
    route.exact_connection.status = ConnectionStatus.NEEDS_REAUTH
    route.exact_connection.save()
    assert tasks.poll_route(route.pk) == {"skipped": "Exact Online needs re-authorization"}
    run = admin_client.get(_url("progress", route)).json()["run"]
    assert run["open"]
    assert run["error"] == "Exact Online needs to be authorized again (Exact Online connections)."
