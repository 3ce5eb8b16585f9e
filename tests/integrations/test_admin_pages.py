"""Admin pages as staff and as a finance reviewer: health panel, review queue, permissions."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from audit.models import AuditEvent
from mappings.models import ValueMapping
from mappings.roles import FINANCE_REVIEWER, ensure_finance_reviewer_group
from tests.factories import make_gl_accounts, make_synced_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer_client(client, db):
    user = get_user_model().objects.create_user("rita", password="pw-rita-123", is_staff=True)
    user.groups.add(ensure_finance_reviewer_group())
    client.force_login(user)
    return client


def test_admin_index_shows_connection_health_and_sandbox_banner(admin_client, route):
    make_synced_record(route, key="k1")
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert 'id="connection-health"' in page
    assert "Exact Online: Acme Exact" in page and "Monday.com: Acme Monday" in page
    assert 'id="sandbox-banner"' in page
    assert "Background worker: not seen yet" in page


def test_health_panel_headings_are_column_headers_that_do_not_wrap_per_letter(admin_client, route):
    """The dashboard's own CSS gives every `.module table th` width:100% with break-word, which
    broke our headings one letter per line; the panel overrides that for its own table."""
    import re

    page = admin_client.get(reverse("admin:index")).content.decode()
    panel = page[page.index('id="connection-health"') :]
    thead = re.search(r"<thead>(.*?)</thead>", panel, re.S).group(1)
    headings = re.findall(r'<th scope="col">([^<]+)</th>', thead)
    assert headings == [
        "Connection",
        "Status",
        "Last successful sync",
        "Events waiting",
        "Flagged",
        "Budget",
    ]
    assert '<table class="health-table">' in panel
    style = re.search(r"<style>(.*?)</style>", panel, re.S).group(1)
    rule = re.search(r"#connection-health \.health-table th\s*\{([^}]*)\}", style).group(1)
    assert "width: auto" in rule and "word-break: normal" in rule
    assert "{#" not in panel and "dashboard.css" not in panel  # template comments stay hidden


def test_review_queue_lists_flagged_items_with_reason_and_missing_mapping(admin_client, route):
    route.columns = {"gl_account": "gl"}
    route.save()
    make_gl_accounts(route.divisions.first())
    make_synced_record(route, key="k1", gl="8000", number="20260001")
    page = admin_client.get(reverse("admin:review_queue")).content.decode()
    assert "20260001" in page
    assert "GL account 8000 has no mapping" in page
    assert 'name="gl_account_value"' in page


def test_reviewer_group_exists_after_migrate():
    from django.contrib.auth.models import Group

    assert Group.objects.filter(name=FINANCE_REVIEWER).exists()


def test_reviewer_sees_review_queue_and_mappings_but_not_connections_or_route_edits(
    reviewer_client, route
):
    assert reviewer_client.get(reverse("admin:review_queue")).status_code == 200
    assert reviewer_client.get(reverse("admin:mappings_glaccount_changelist")).status_code == 200
    assert (
        reviewer_client.get(reverse("admin:integrations_exactconnection_changelist")).status_code
        == 403
    )
    assert (
        reviewer_client.get(reverse("admin:integrations_mondayconnection_changelist")).status_code
        == 403
    )
    change = reviewer_client.post(
        reverse("admin:integrations_route_change", args=[route.pk]), {"name": "hijacked"}
    )
    assert change.status_code == 403
    route.refresh_from_db()
    assert route.name != "hijacked"
    index = reviewer_client.get(reverse("admin:index")).content.decode()
    assert 'id="connection-health"' not in index


def test_plain_user_cannot_open_the_admin(client, plain_user):
    client.force_login(plain_user)
    response = client.get(reverse("admin:review_queue"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_fix_posts_need_csrf(route, staff_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(staff_user)
    rec = make_synced_record(route, key="k1")
    response = strict.post(reverse("admin:review_fix", args=[rec.pk]), {"gl_account_value": "X"})
    assert response.status_code == 403
    assert not ValueMapping.objects.exists()
    assert not AuditEvent.objects.filter(action="mapping.set").exists()


def test_view_site_link_goes_to_the_admin_home_not_a_404(admin_client):
    import re

    page = admin_client.get(reverse("admin:index")).content.decode()
    href = re.search(r'<a href="([^"]*)">View site</a>', page).group(1)
    assert href == reverse("admin:index")
    assert admin_client.get(href).status_code == 200


def test_the_interface_spells_monday_com_one_way(admin_client, route):
    """Visible text says "Monday.com", never a bare "Monday" (code names and URLs aside)."""
    import re

    from django.utils.html import strip_tags

    pages = [
        reverse("admin:index"),
        reverse("admin:mappings_valuemapping_changelist"),
        reverse("admin:integrations_mondayboard_changelist"),
    ]
    for url in pages:
        html = admin_client.get(url).content.decode()
        html = re.sub(r"<(script|style)\b.*?</\1>", "", html, flags=re.S)
        text = strip_tags(html).replace("Acme Monday", "")  # the factory's connection name
        bare = re.findall(r".{0,30}\bMonday\b(?!\.com).{0,30}", text)
        assert not bare, (url, bare)
