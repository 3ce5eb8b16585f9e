import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from responses import matchers

from integrations.errors import RemoteUnavailable
from integrations.models import Entity
from tests.integrations.exact.conftest import API
from tests.integrations.exact.rows import fixture, key, page, si_sync_rows, wire_date

D = f"{API}/101"


def q(params):
    return [matchers.query_param_matcher(params)]


def test_me_reads_the_user_without_a_division(mocked_http, make_client):
    mocked_http.get(
        f"{API}/current/Me",
        json=fixture("me.json"),
        match=q(
            {
                "$select": "UserID,UserName,FullName,Email,CurrentDivision,DivisionCustomerName,"
                "ServerUtcOffset"
            }
        ),
    )
    me = make_client().me()
    assert me.current_division == 101 and me.full_name == "Jan Jansen"
    assert me.user_id == uuid.UUID("6f2c0a1e-0000-0000-0000-000000000001")


def test_list_divisions_reads_system_divisions(mocked_http, make_client):
    mocked_http.get(f"{D}/system/Divisions", json=fixture("system_divisions.json"))
    divisions = make_client().list_divisions(101)
    assert [(d.code, d.currency) for d in divisions] == [(101, "EUR"), (102, "EUR"), (103, "GBP")]
    assert divisions[0].is_current


def test_get_document_filters_on_the_key_and_reads_the_lines(mocked_http, make_client):
    header = {
        "InvoiceID": key(1),
        "InvoiceNumber": 5,
        "InvoiceDate": wire_date(datetime(2025, 12, 31)),
        "Currency": "EUR",
        "AmountFC": Decimal("242"),
        "AmountDC": Decimal("242"),
        "InvoiceToName": "Acme",
        "Description": "x",
        "Status": 20,
        "Type": 8020,
        "Modified": None,
    }
    mocked_http.get(
        f"{D}/salesinvoice/SalesInvoices",
        json=page([header]),
        match=q(
            {
                "$filter": f"InvoiceID eq guid'{key(1)}'",
                "$select": "InvoiceID,InvoiceNumber,InvoiceDate,Currency,AmountFC,AmountDC,"
                "InvoiceToName,Description,Status,Type,Modified",
                "$top": "1",
            }
        ),
    )
    lines = [
        {
            "ID": key(10 + n),
            "InvoiceID": key(1),
            "LineNumber": n,
            "Description": "",
            "GLAccount": key(8000),
            "CostCenter": "200",
            "CostUnit": "",
            "Quantity": 1,
            "AmountFC": Decimal("100"),
            "AmountDC": Decimal("100"),
        }
        for n in (2, 1)
    ]
    mocked_http.get(
        f"{D}/salesinvoice/SalesInvoiceLines",
        json=page(lines),
        match=q(
            {
                "$filter": f"InvoiceID eq guid'{key(1)}'",
                "$select": "InvoiceID,ID,LineNumber,Description,CostCenter,CostUnit,Quantity,AmountDC,"
                "AmountFC,GLAccount",
            }
        ),
    )
    doc = make_client().get_document(Entity.SALES_INVOICE, 101, uuid.UUID(key(1)))
    assert doc.document_date == date(2025, 12, 31)
    assert [line.line_number for line in doc.lines] == [1, 2]
    assert doc.lines_complete


def test_get_document_of_a_missing_key_is_none_after_one_call(mocked_http, make_client):
    mocked_http.get(f"{D}/purchaseorder/PurchaseOrders", json=page([]))
    assert make_client().get_document(Entity.PURCHASE_ORDER, 101, uuid.UUID(key(9))) is None
    assert len(mocked_http.calls) == 1


def test_sales_invoice_changes_come_from_the_sync_feed_one_call_per_page(mocked_http, make_client):
    rows = [r for n in range(1, 301) for r in si_sync_rows(n, ts=10 * n)]  # 1,200 rows
    next_url = f"{D}/sync/SalesInvoice/SalesInvoices?$skiptoken=abc"
    mocked_http.get(
        f"{D}/sync/SalesInvoice/SalesInvoices",
        json=page(rows[:1000], next_url),
        match=[matchers.query_param_matcher({"$filter": "Timestamp gt 5L"}, strict_match=False)],
    )
    mocked_http.get(
        f"{D}/sync/SalesInvoice/SalesInvoices",
        json=page(rows[1000:]),
        match=q({"$skiptoken": "abc"}),
    )
    pages = list(make_client().iter_changes(Entity.SALES_INVOICE, 101, since=5))
    keys = [d.key.int for p in pages for d in p.documents]
    assert sorted(keys) == list(range(1, 301)) and len(keys) == 300
    # Read to the end of the feed before handing out: an invoice's rows may go on any page.
    assert [p.rows for p in pages] == [1200]
    assert pages[-1].max_timestamp == 3003
    assert len(mocked_http.calls) == 2


def test_sales_order_changes_merge_headers_and_lines(mocked_http, make_client):
    h = {
        "Timestamp": 50,
        "ID": key(1),
        "OrderID": key(1),
        "OrderNumber": 1,
        "OrderDate": None,
        "Currency": "EUR",
        "AmountFC": 10,
        "AmountDC": 10,
        "OrderedByName": "A",
        "Description": "",
        "Status": 12,
        "Modified": None,
    }
    line_only = {
        "Timestamp": 70,
        "ID": key(21),
        "OrderID": key(2),
        "LineNumber": 1,
        "Description": "",
        "CostCenter": "1",
        "CostUnit": "",
        "Quantity": 1,
        "AmountDC": 5,
        "AmountFC": 5,
    }
    header_line = {**line_only, "Timestamp": 60, "ID": key(11), "OrderID": key(1)}
    mocked_http.get(
        f"{D}/sync/SalesOrder/SalesOrderHeaders",
        json=page([h]),
        match=[matchers.query_param_matcher({"$filter": "Timestamp gt 40L"}, strict_match=False)],
    )
    # A header written while the lines were read: found by the second header scan.
    late = {**h, "Timestamp": 80, "Description": "late change"}
    mocked_http.get(
        f"{D}/sync/SalesOrder/SalesOrderHeaders",
        json=page([late]),
        match=[matchers.query_param_matcher({"$filter": "Timestamp gt 50L"}, strict_match=False)],
    )
    mocked_http.get(f"{D}/sync/SalesOrder/SalesOrderLines", json=page([header_line, line_only]))
    fetched = {**h, "OrderID": key(2), "OrderNumber": 2, "Status": 45}
    mocked_http.get(
        f"{D}/salesorder/SalesOrders",
        json=page([fetched]),
        match=[
            matchers.query_param_matcher(
                {"$filter": f"OrderID eq guid'{key(2)}'"}, strict_match=False
            )
        ],
    )
    [sync_page] = list(make_client().iter_changes(Entity.SALES_ORDER, 101, since=40))
    docs = {d.number: d for d in sync_page.documents}
    assert set(docs) == {"1", "2"}
    assert len(docs["1"].lines) == 1 and not docs["1"].lines_complete
    assert docs["2"].is_cancelled
    assert docs["1"].description == "late change"
    assert sync_page.max_timestamp == 50  # the late header: lines above 50 are read again


def test_sales_order_cursor_passes_the_lines_when_no_header_changed_meanwhile(
    mocked_http, make_client
):
    line = {
        "Timestamp": 70,
        "ID": key(21),
        "OrderID": key(2),
        "LineNumber": 1,
        "Description": "",
        "CostCenter": "1",
        "CostUnit": "",
        "Quantity": 1,
        "AmountDC": 5,
        "AmountFC": 5,
    }
    mocked_http.get(f"{D}/sync/SalesOrder/SalesOrderHeaders", json=page([]))
    mocked_http.get(f"{D}/sync/SalesOrder/SalesOrderLines", json=page([line]))
    mocked_http.get(f"{D}/salesorder/SalesOrders", json=page([]))  # the order is gone
    [sync_page] = list(make_client().iter_changes(Entity.SALES_ORDER, 101, since=40))
    assert sync_page.documents == [] and sync_page.max_timestamp == 70


def test_purchase_invoices_poll_modified_with_an_overlap(mocked_http, make_client):
    since = int(datetime(2026, 7, 1, 10, 0, tzinfo=UTC).timestamp())
    row = {
        "ID": key(1),
        "EntryNumber": 3,
        "InvoiceDate": None,
        "Currency": "EUR",
        "Amount": 9,
        "AmountDC": 9,
        "Description": "",
        "Status": 20,
        "Type": 8033,
        "Modified": wire_date(datetime(2026, 7, 1, 12, 5)),
    }
    mocked_http.get(
        f"{D}/purchase/PurchaseInvoices",
        json=page([row, row]),
        match=[
            # 10:00 UTC minus 10 minutes, as Amsterdam summer time
            matchers.query_param_matcher(
                {"$filter": "Modified ge datetime'2026-07-01T11:50:00'"}, strict_match=False
            )
        ],
    )
    mocked_http.get(f"{D}/purchase/PurchaseInvoiceLines", json=page([]))
    [sync_page] = list(make_client().iter_changes(Entity.PURCHASE_INVOICE, 101, since=since))
    assert len(sync_page.documents) == 1  # de-duplicated by ID
    assert sync_page.max_timestamp == int(datetime(2026, 7, 1, 10, 5, tzinfo=UTC).timestamp())


def test_deleted_records_are_filtered_per_entity_but_the_cursor_covers_all(
    mocked_http, make_client
):
    rows = [
        {"Timestamp": 7, "ID": key(1), "EntityKey": key(2), "EntityType": 13},
        {"Timestamp": 9, "ID": key(3), "EntityKey": key(4), "EntityType": 22},
    ]
    mocked_http.get(
        f"{D}/sync/Deleted",
        json=page(rows),
        match=[matchers.query_param_matcher({"$filter": "Timestamp gt 1L"}, strict_match=False)],
    )
    [deleted] = list(make_client().iter_deleted(101, since=1, entity=Entity.SALES_INVOICE))
    assert deleted.keys == (uuid.UUID(key(2)),)
    assert deleted.max_timestamp == 9


def test_sync_timestamp_for_a_start_date(mocked_http, make_client):
    mocked_http.get(
        f"{D}/read/sync/Sync/SyncTimestamp",
        json={"d": {"results": [{"TimeStampAsBigInt": 4242}]}},
        match=q({"modified": "datetime'2026-01-01T00:00:00'", "endPoint": "'SalesInvoices'"}),
    )
    assert make_client().sync_timestamp_for(Entity.SALES_INVOICE, 101, date(2026, 1, 1)) == 4242


def test_gl_accounts_and_cost_centers(mocked_http, make_client):
    mocked_http.get(
        f"{D}/financial/GLAccounts",
        json=page([{"ID": key(1), "Code": "8000", "Description": "Omzet", "IsBlocked": False}]),
        match=q({"$select": "ID,Code,Description,IsBlocked"}),
    )
    mocked_http.get(
        f"{D}/hrm/Costcenters",
        json=page(
            [
                {
                    "ID": key(2),
                    "Code": "200",
                    "Description": "Service",
                    "EndDate": wire_date(datetime(2025, 12, 31)),
                }
            ]
        ),
    )
    client = make_client()
    assert client.list_gl_accounts(101)[0].code == "8000"
    assert client.list_cost_centers(101)[0].end_date == date(2025, 12, 31)


def test_webhook_subscription_create_list_delete(mocked_http, make_client):
    url = f"{D}/webhooks/WebhookSubscriptions"
    body = {
        "CallbackURL": "https://c.example/webhooks/exact/",
        "Topic": "SalesInvoices",
        "Description": "ml-connector",
    }
    mocked_http.post(
        url,
        json={"d": {"ID": key(5), **body}},
        status=201,
        match=[matchers.json_params_matcher(body)],
    )
    mocked_http.delete(f"{url}(guid'{key(5)}')", status=204)
    client = make_client()
    created = client.create_webhook_subscription(
        101, topic="SalesInvoices", callback_url=body["CallbackURL"]
    )
    assert created["ID"] == key(5)
    client.delete_webhook_subscription(101, key(5))


def test_duplicate_webhook_subscription_returns_the_existing_one(mocked_http, make_client):
    url = f"{D}/webhooks/WebhookSubscriptions"
    mocked_http.post(url, status=500, json={"error": {"message": {"value": "Data already exists"}}})
    existing = {"ID": key(6), "Topic": "SalesInvoices", "CallbackURL": "https://c.example/w/"}
    mocked_http.get(url, json=page([existing]))
    client = make_client()
    assert (
        client.create_webhook_subscription(
            101, topic="SalesInvoices", callback_url="https://c.example/w/"
        )
        == existing
    )


def test_other_server_errors_on_subscribe_are_raised(mocked_http, make_client):
    mocked_http.post(
        f"{D}/webhooks/WebhookSubscriptions",
        status=500,
        json={"error": {"message": {"value": "Invalid: Post to callback URL"}}},
    )
    with pytest.raises(RemoteUnavailable):
        make_client().create_webhook_subscription(
            101, topic="SalesInvoices", callback_url="https://c.example/w/"
        )
