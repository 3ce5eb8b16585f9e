"""A non-staff user and a Finance reviewer are refused the connect views, the connection pages
(every URL their ModelAdmins serve), route add/change and every secret-bearing page."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, reverse

from integrations.models import ExactConnection, MondayBoard, MondayConnection, Route
from tests.reliability.counters import COUNTS

pytestmark = pytest.mark.django_db
CONNECT_URLS = [
    "/integrations/exact/connect/?region=nl",
    "/integrations/exact/callback/?state=x&code=y",
    "/integrations/monday/start/",
    "/integrations/monday/callback/?state=x&code=y",
]


def admin_urls(model, pk) -> list[str]:
    """Every named URL the model's ModelAdmin serves (custom views included), for object pk."""
    urls = []
    for pattern in admin.site._registry[model].get_urls():
        if not isinstance(pattern, URLPattern) or not pattern.name:
            continue
        kwargs = {name: pk for name in pattern.pattern.converters}
        urls.append(reverse(f"admin:{pattern.name}", kwargs=kwargs))
    return urls


@pytest.fixture
def guarded(route):
    """Every URL that reaches a connection, its token or its actions."""
    exact, monday = route.exact_connection, route.monday_connection
    MondayBoard.objects.create(connection=monday, board_id="1001", name="Finance", columns=[])
    urls = admin_urls(ExactConnection, exact.pk) + admin_urls(MondayConnection, monday.pk)
    urls += [u for u in admin_urls(MondayBoard, 1) if u.endswith("/refresh/")]
    urls += [reverse("admin:integrations_route_add")]
    assert len(urls) >= 14, urls
    assert any(u.endswith("/test/") for u in urls) and any("refresh" in u for u in urls)
    return urls + CONNECT_URLS


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def snapshot(route):
    exact, monday = route.exact_connection, route.monday_connection
    exact.refresh_from_db()
    monday.refresh_from_db()
    route.refresh_from_db()
    return (
        ExactConnection.objects.count(),
        MondayConnection.objects.count(),
        Route.objects.count(),
        exact.name,
        exact.access_token,
        monday.name,
        monday.api_token,
        route.name,
        route.columns,
    )


def test_non_staff_users_are_sent_to_the_login_page_everywhere(plain_user, guarded, route):
    client = login(plain_user)
    before = snapshot(route)
    for url in guarded:
        for method in ("get", "post"):
            COUNTS["bad inputs tried: requests by users without the right"] += 1
            response = getattr(client, method)(url, {"name": "hijacked", "token": "x"})
            if response.status_code == 405:  # the view only takes the other method
                continue
            assert response.status_code == 302, (method, url, response.status_code)
            assert response["Location"].startswith("/admin/login/"), (method, url)
    assert snapshot(route) == before


def test_finance_reviewers_are_refused_connections_routes_and_secret_pages(
    reviewer, guarded, route
):
    client = login(reviewer)
    # The control: the reviewer is logged in and may work the review queue.
    assert client.get(reverse("admin:integrations_syncedrecord_changelist")).status_code == 200
    before = snapshot(route)
    for url in guarded:
        for method in ("get", "post"):
            COUNTS["bad inputs tried: requests by users without the right"] += 1
            response = getattr(client, method)(url, {"name": "hijacked", "token": "x"})
            assert response.status_code in (403, 405), (method, url, response.status_code)
    assert snapshot(route) == before


def test_a_reviewer_sees_a_route_read_only_and_cannot_change_it(reviewer, route):
    client = login(reviewer)
    url = reverse("admin:integrations_route_change", args=[route.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()  # no save button: read-only
    COUNTS["bad inputs tried: requests by users without the right"] += 1
    response = client.post(url, {"name": "hijacked", "board_id": "666", "entity": route.entity})
    assert response.status_code == 403
    route.refresh_from_db()
    assert route.name != "hijacked" and route.board_id == "1001"


def test_anonymous_visitors_never_reach_a_connection_page(guarded):
    client = Client()
    for url in guarded:
        COUNTS["bad inputs tried: requests by users without the right"] += 1
        response = client.get(url)
        assert response.status_code in (302, 405), url
        if response.status_code == 302:
            assert response["Location"].startswith("/admin/login/"), url


def admin_index_links(client) -> set[str]:
    import re

    page = client.get(reverse("admin:index")).content.decode()
    return set(re.findall(r'<th scope="row"[^>]*>\s*<a href="(/admin/[^"]+)"', page))


def test_a_reviewers_admin_home_lists_only_the_review_mappings_and_audit_pages(reviewer, route):
    client = login(reviewer)
    assert admin_index_links(client) == {
        "/admin/integrations/syncedrecord/",  # the items and their review queue
        "/admin/integrations/route/",  # read-only: which board a document goes to
        "/admin/mappings/glaccount/",
        "/admin/mappings/costcenter/",
        "/admin/mappings/valuemapping/",
        "/admin/audit/auditevent/",
    }
    home = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:review_queue") in home
    for name in (
        "integrations_webhookevent_changelist",
        "integrations_pollcursor_changelist",
        "integrations_exactconnection_changelist",
        "integrations_mondayconnection_changelist",
        "django_q_schedule_changelist",
        "django_q_ormq_changelist",
        "django_q_failure_changelist",
        "django_q_success_changelist",
        "auth_user_changelist",
    ):
        COUNTS["bad inputs tried: requests by users without the right"] += 1
        assert client.get(reverse(f"admin:{name}")).status_code == 403, name
    queue = client.get(reverse("admin:review_queue")).content.decode()
    assert "Dead webhook events" not in queue  # the administrators' (they are mailed)


def test_an_admin_still_sees_the_task_queues_cursors_and_dead_events(staff_user, route):
    links = admin_index_links(login(staff_user))
    assert {"/admin/integrations/webhookevent/", "/admin/integrations/pollcursor/"} <= links
    assert any(link.startswith("/admin/django_q/") for link in links)
    queue = login(staff_user).get(reverse("admin:review_queue")).content.decode()
    assert "Dead webhook events" in queue
