"""The audit trail's filters: by document (Exact number or key), by route, by kind of record in
words, and by division with names and no "-" choice for events that have none."""

from __future__ import annotations

import re

import pytest

import audit
from integrations.models import Route, WebhookEvent
from mappings.models import ValueMapping
from tests.factories import make_route, make_synced_record

pytestmark = pytest.mark.django_db
URL = "/admin/audit/auditevent/"


def filter_block(page: str, title: str) -> str:
    return re.search(rf'data-filter-title="{title}".*?</details>', page, re.S).group(0)


def shown(client, **params) -> list[str]:
    """The "Details" column of the listed events (each test gives its events a message)."""
    page = client.get(URL, params).content.decode()
    return re.findall(r'<td class="field-summary">([^<]*)</td>', page)


@pytest.fixture
def two_routes(route):
    other = make_route(route.exact_connection, route.monday_connection, name="Purchase orders")
    return route, other


def test_the_route_filter_shows_a_routes_own_items_and_mappings(admin_client, two_routes):
    mine, other = two_routes
    rec = make_synced_record(mine, key="k-mine", number="20260001")
    theirs = make_synced_record(other, key="k-theirs", number="20260002")
    mapping = ValueMapping.objects.create(
        route=mine,
        division=mine.divisions.first(),
        kind="gl_account",
        code="8000",
        monday_value="8000 Revenue",
    )
    audit.record("route.changed", obj=mine, message="route mine")
    audit.record("route.changed", obj=other, message="route other")
    audit.record("item.flagged", obj=rec, message="item mine")
    audit.record("item.flagged", obj=theirs, message="item other")
    audit.record("mapping.set", obj=mapping, message="mapping mine")
    audit.record("retention.purged", message="no route")
    assert sorted(shown(admin_client, route=mine.pk)) == ["item mine", "mapping mine", "route mine"]
    assert sorted(shown(admin_client, route=other.pk)) == ["item other", "route other"]
    block = filter_block(admin_client.get(URL).content.decode(), "route")
    assert "Purchase orders" in block and mine.name in block


def test_the_document_filter_finds_a_document_by_number_or_key(admin_client, route):
    rec = make_synced_record(route, key="7e3b1c2a-0000-4000-8000-000000000001", number="20260042")
    other = make_synced_record(route, key="7e3b1c2a-0000-4000-8000-000000000002", number="20260099")
    notice = WebhookEvent.objects.create(
        dedupe_key="d1", topic="SalesInvoices", division=101, exact_key=rec.exact_key, raw_body="{}"
    )
    audit.record("item.created", obj=rec, message="created 42")
    audit.record("item.flagged", obj=rec, message="flagged 42")
    audit.record("webhook.accepted", obj=notice, message="notice 42")
    audit.record("item.created", obj=other, message="created 99")
    assert sorted(shown(admin_client, record="20260042")) == [
        "created 42",
        "flagged 42",
        "notice 42",
    ]
    by_key = shown(admin_client, record="{7E3B1C2A-0000-4000-8000-000000000001}")
    assert sorted(by_key) == ["created 42", "flagged 42", "notice 42"]
    assert shown(admin_client, record="20269999") == []
    both = shown(admin_client, record="20260042", action="item.created")  # filters combine
    assert both == ["created 42"]
    page = admin_client.get(URL, {"record": "20260042", "action": "item.created"}).content.decode()
    form = filter_block(page, "document")
    assert 'name="record" value="20260042"' in form
    assert '<input type="hidden" name="action" value="item.created">' in form
    assert 'name="record"' not in re.sub(
        r'<form[^>]*id="record-filter".*?</form>', "", form, flags=re.S
    )


def test_kinds_of_record_and_divisions_are_shown_in_words(admin_client, route):
    audit.record("route.changed", obj=route, division=101, message="m")
    audit.record("item.flagged", obj=make_synced_record(route, key="k"), division=101)
    audit.record("retention.purged")  # no division, no object
    page = admin_client.get(URL).content.decode()
    kinds = filter_block(page, "kind of record")
    assert ">Route</a>" in kinds and ">Sales invoice item</a>" in kinds
    assert not [t for t in re.findall(r"<a [^>]*>([^<]*)</a>", kinds) if "." in t]
    divisions = filter_block(page, "division")
    assert ">101 Division 101</a>" in divisions
    assert re.findall(r"<a [^>]*>([^<]*)</a>", divisions) == ["All", "101 Division 101"]
    assert re.findall(r'<td class="field-division_code">([^<]*)</td>', page) == ["", "101", "101"]
    assert len(shown(admin_client, division=101)) == 2
    assert len(shown(admin_client, object_type=Route._meta.label)) == 1
    items = "integrations.SyncedRecord:sales_invoice"
    assert len(shown(admin_client, object_type=items)) == 1
    assert shown(admin_client, object_type="integrations.SyncedRecord:purchase_order") == []
