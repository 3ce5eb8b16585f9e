"""The review queue without dead ends: values chosen from the board column, refused values caught
before the write, filters, search, paging, money and names; and the mapping screens' counts."""

from __future__ import annotations

from unittest import mock

import pytest
from django.urls import reverse

from integrations.admin.routes import SyncedRecordAdmin
from integrations.models import MondayBoard, SyncedRecord, WebhookEvent
from mappings.models import CostCenter, GLAccount, ValueMapping
from tests.factories import make_gl_accounts

pytestmark = pytest.mark.django_db

BOARD_COLUMNS = [
    {
        "id": "gl",
        "title": "GL account",
        "type": "dropdown",
        "settings": {"labels": [{"id": 1, "name": "8000 Revenue"}, {"id": 2, "name": "8100"}]},
    },
    {
        "id": "cc",
        "title": "Cost center",
        "type": "status",
        "settings": {"labels": {"0": "P301", "1": "P303"}},
    },
    {"id": "note", "title": "Note", "type": "text"},
]


@pytest.fixture
def board_route(route, monday_connection):
    MondayBoard.objects.create(
        connection=monday_connection, board_id=route.board_id, name="Finance", columns=BOARD_COLUMNS
    )
    route.columns = {"gl_account": "gl", "cost_center": "cc"}
    route.save()
    return route


def flagged(route, *, key, number="1", gl="8000", cc="", reasons=None, **snap):
    division = route.divisions.first()
    snapshot = {"gl_account": gl, "cost_center": cc, "amount": "10.00", "currency": "EUR"}
    snapshot.update(snap)
    return SyncedRecord.objects.create(
        route=route,
        division=division.code,
        exact_key=key,
        exact_number=number,
        monday_item_id=f"9{key}",
        state=SyncedRecord.State.FLAGGED,
        snapshot=snapshot,
        review_reasons=reasons or [f"GL account {gl} has no mapping for the GL account column"],
    )


def queue(client, **params):
    return client.get(reverse("admin:review_queue"), params).content.decode()


def test_fix_field_offers_the_board_columns_labels_to_choose_from(admin_client, board_route):
    rec = flagged(board_route, key="k1")
    page = queue(admin_client)
    row = page[page.index(f'data-record="{rec.pk}"') :]
    assert '<select name="gl_account_value"' in row
    assert "<option>8000 Revenue</option>" in row and "<option>8100</option>" in row


def test_a_text_column_suggests_the_values_already_used_in_mappings(admin_client, board_route):
    board_route.columns = {"gl_account": "note"}
    board_route.save()
    division = board_route.divisions.first()
    ValueMapping.objects.create(
        route=board_route, division=division, kind="gl_account", code="4000", monday_value="Rent"
    )
    flagged(board_route, key="k1")
    page = queue(admin_client)
    assert 'list="values-' in page and '<option value="Rent">' in page


def test_a_value_the_board_would_refuse_is_caught_before_the_write(admin_client, board_route):
    rec = flagged(board_route, key="k1")
    with mock.patch("integrations.sync.resync_records") as resync:
        response = admin_client.post(
            reverse("admin:review_fix", args=[rec.pk]),
            {"gl_account_value": "8000 Revenue account"},
            follow=True,
        )
    assert not resync.called
    assert not ValueMapping.objects.exists()
    text = response.content.decode()
    assert "Nothing saved for 1" in text
    assert "has no label “8000 Revenue account”" in text
    assert "Choose one of its labels" in text


def test_a_chosen_label_is_mapped_in_the_boards_spelling_and_resynced(admin_client, board_route):
    rec = flagged(board_route, key="k1")
    counts = {"synced": 1, "flagged": 0, "failed": 0}
    with mock.patch("integrations.sync.resync_records", return_value=counts) as resync:
        response = admin_client.post(
            reverse("admin:review_fix", args=[rec.pk]),
            {"gl_account_value": "8000 REVENUE"},
            follow=True,
        )
    assert resync.called
    assert ValueMapping.objects.get(code="8000").monday_value == "8000 Revenue"
    assert "Re-synced 1 item: 1 cleared." in response.content.decode()


def test_a_row_monday_refused_still_offers_the_mapping_fix_in_plain_words(
    admin_client, board_route
):
    division = board_route.divisions.first()
    ValueMapping.objects.create(
        route=board_route, division=division, kind="cost_center", code="P303", monday_value="P303"
    )
    ValueMapping.objects.create(
        route=board_route, division=division, kind="gl_account", code="8000", monday_value="8100"
    )
    # The cached labels accept P303, but Monday refused it on the write: the column stayed empty.
    rec = flagged(
        board_route,
        key="k1",
        cc="P303",
        cost_center_value="P303",
        gl_value="8100",
        columns={"gl": {"labels": ["8100"]}},
        reasons=["Column *Cost center* rejected label 'P303' → map it or allow new labels"],
    )
    page = queue(admin_client)
    row = page[page.index(f'data-record="{rec.pk}"') :]
    assert '<select name="cost_center_value"' in row
    assert 'value="Map and re-sync"' in row
    assert "*" not in row[: row.index("</tr>")]
    assert "Column “Cost center” rejected label" in row


def test_filters_search_and_paging(admin_client, board_route, monkeypatch):
    monkeypatch.setattr(SyncedRecordAdmin, "list_per_page", 2)
    flagged(board_route, key="k1", number="20260001", account="Acme Retail BV")
    flagged(board_route, key="k2", number="20260002", account="Bakker Bouw")
    flagged(board_route, key="k3", number="20260003", account="Acme Holding")
    first = queue(admin_client)
    assert "Flagged items: 3" in first and "Page 1 of 2" in first
    assert queue(admin_client, p=2).count('data-record="') == 1
    by_customer = queue(admin_client, q="acme")
    assert "20260001" in by_customer and "20260003" in by_customer
    assert "20260002" not in by_customer and "Flagged items: 2 of 3" in by_customer
    assert "20260002" in queue(admin_client, q="0002")
    assert queue(admin_client, route=board_route.pk + 1).count('data-record="') == 0
    assert queue(admin_client, route=board_route.pk).count('data-record="') == 2  # paged
    assert queue(admin_client, division=999).count('data-record="') == 0
    assert queue(admin_client, reason="missing", q="acme").count('data-record="') == 2
    assert queue(admin_client, reason="other").count('data-record="') == 0


def test_rows_show_customer_division_name_and_money_in_the_document_currency(
    admin_client, board_route
):
    flagged(board_route, key="k1", account="Acme Retail BV", amount="6425.1", currency="EUR")
    page = queue(admin_client)
    division = board_route.divisions.first()
    assert "Acme Retail BV" in page
    assert f"<td>{division.name}</td>" in page
    assert "EUR 6,425.10" in page and "6425.1 EUR" not in page


def test_ready_count_agrees_with_what_a_resync_would_clear(admin_client, board_route):
    division = board_route.divisions.first()
    ValueMapping.objects.create(
        route=board_route, division=division, kind="gl_account", code="8000", monday_value="8100"
    )
    flagged(board_route, key="k1")  # flagged for the mapping, mapped since: ready
    flagged(  # mapped, but flagged for a missing status label: a re-sync will not clear it
        board_route,
        key="k2",
        reasons=["The Monday.com column “Status” has no label “Draft”. Choose one of its labels."],
    )
    page = queue(admin_client)
    assert "1 flagged item now has every mapping it needs" in page
    assert 'value="Re-sync the 1 mapped item"' in page
    assert queue(admin_client, reason="other").count('data-record="') == 1


def test_gl_account_list_shows_per_code_items_using_it_and_flagged_by_it(admin_client, board_route):
    division = board_route.divisions.first()
    make_gl_accounts(division)
    flagged(board_route, key="k1", gl="8000")
    flagged(board_route, key="k2", gl="8000")
    rec = flagged(board_route, key="k3", gl="8000", gl_value="8000 Revenue")
    rec.snapshot["columns"] = {"gl": {"labels": ["8000 Revenue"]}}
    rec.state = SyncedRecord.State.SYNCED
    rec.save()
    page = admin_client.get(reverse("admin:mappings_glaccount_changelist")).content.decode()
    assert "Items using it" in page and "Flagged because of it" in page
    row = page[page.index(">8000<") :]
    row = row[: row.index("</tr>")]
    assert '<td class="field-items_using">3</td>' in row
    assert '<td class="field-flagged_by">2</td>' in row


def test_bulk_map_offers_the_column_labels_and_refuses_others(admin_client, board_route):
    division = board_route.divisions.first()
    accounts = make_gl_accounts(division)
    url = reverse("admin:mappings_glaccount_changelist")
    data = {"action": "bulk_map", "_selected_action": [accounts[0].pk]}
    form = admin_client.post(url, data).content.decode()
    assert '<select name="monday_value"' in form and "8000 Revenue" in form
    refused = admin_client.post(
        url, {**data, "apply": "1", "route": board_route.pk, "monday_value": "Revenue"}
    ).content.decode()
    assert not ValueMapping.objects.exists()
    assert "Select a valid choice" in refused or "has no label" in refused
    done = admin_client.post(
        url,
        {**data, "apply": "1", "route": board_route.pk, "monday_value": "8000 Revenue"},
        follow=True,
    ).content.decode()
    assert ValueMapping.objects.get().monday_value == "8000 Revenue"
    assert "Mapped 1 code to “8000 Revenue”" in done and "code(s)" not in done


def test_cost_center_list_also_counts(admin_client, board_route):
    division = board_route.divisions.first()
    CostCenter.objects.create(division=division, exact_id="c1", code="P303", description="Utrecht")
    flagged(board_route, key="k1", cc="P303")
    page = admin_client.get(reverse("admin:mappings_costcenter_changelist")).content.decode()
    assert '<td class="field-flagged_by">1</td>' in page
    assert GLAccount.objects.count() == 0


def test_dates_read_as_people_write_them_and_dead_events_say_which_document(
    admin_client, board_route
):
    flagged(board_route, key="k1", number="26000003", date="2026-11-23")
    division = board_route.divisions.first()
    WebhookEvent.objects.create(
        dedupe_key="d1",
        topic="SalesInvoices",
        action="Update",
        division=division.code,
        exact_key="k1",
        raw_body="{}",
        state=WebhookEvent.State.DEAD,
        last_error="Monday.com did not answer.",
    )
    page = queue(admin_client)
    assert "23 Nov 2026" in page and ">2026-11-23<" not in page
    assert f"Sales invoice 26000003 changed in division {division.code} {division.name}" in page
    assert "SalesInvoices Update" not in page and "Monday.com did not answer." in page
