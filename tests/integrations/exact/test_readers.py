import json
import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import unquote_plus

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
    # Reference §2.2-2.3: the property is `Hid` (OData names are case-sensitive; `HID` fails).
    mocked_http.get(
        f"{D}/system/Divisions",
        json=fixture("system_divisions.json"),
        match=q(
            {
                "$select": "Code,Description,Hid,Currency,Country,Status,BlockingStatus,"
                "Current,DivisionMoveDate"
            }
        ),
    )
    divisions = make_client().list_divisions(101)
    assert [(d.code, d.currency) for d in divisions] == [(101, "EUR"), (102, "EUR"), (103, "GBP")]
    assert divisions[0].is_current
    assert [d.hid for d in divisions] == ["1", "2", "3"]


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
    mocked_http.get(  # the bulk lines endpoint (reference §5.4-§5.5): 1,000 rows a page
        f"{D}/bulk/SalesInvoice/SalesInvoiceLines",
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


def _order_rows():
    header = {
        "Timestamp": 50,
        "ID": key(1),
        "OrderID": key(1),
        "OrderNumber": 1,
        "OrderDate": None,
        "Currency": "EUR",
        "AmountFC": 15,
        "AmountDC": 15,
        "OrderedByName": "A",
        "Description": "",
        "Status": 12,
        "Modified": None,
    }
    line = {
        "Timestamp": 60,
        "ID": key(11),
        "OrderID": key(1),
        "LineNumber": 1,
        "Description": "",
        "CostCenter": "1",
        "CostUnit": "",
        "Quantity": 1,
        "AmountDC": 5,
        "AmountFC": 5,
    }
    return header, [line, {**line, "Timestamp": 61, "ID": key(12), "LineNumber": 2}]


@pytest.mark.parametrize(("since", "whole"), [(1, True), (40, False)])
def test_a_first_sales_order_read_from_the_feeds_start_needs_no_second_read_of_lines(
    mocked_http, make_client, since, whole
):
    header, lines = _order_rows()
    mocked_http.get(f"{D}/sync/SalesOrder/SalesOrderHeaders", json=page([header]))
    mocked_http.get(f"{D}/sync/SalesOrder/SalesOrderHeaders", json=page([]))  # nothing meanwhile
    mocked_http.get(f"{D}/sync/SalesOrder/SalesOrderLines", json=page(lines))
    [sync_page] = list(make_client().iter_changes(Entity.SALES_ORDER, 101, since=since))
    (doc,) = sync_page.documents
    assert len(doc.lines) == 2 and doc.lines_complete is whole
    # From the start the feed held every line; from a cursor, only the lines changed since.
    assert len(mocked_http.calls) == 3


def test_a_first_sales_order_read_stays_partial_when_a_header_changed_meanwhile(
    mocked_http, make_client
):
    header, lines = _order_rows()
    mocked_http.get(f"{D}/sync/SalesOrder/SalesOrderHeaders", json=page([header]))
    late = {**header, "Timestamp": 80, "Description": "changed while the lines were read"}
    mocked_http.get(f"{D}/sync/SalesOrder/SalesOrderHeaders", json=page([late]))
    mocked_http.get(f"{D}/sync/SalesOrder/SalesOrderLines", json=page(lines))
    [sync_page] = list(make_client().iter_changes(Entity.SALES_ORDER, 101, since=1))
    (doc,) = sync_page.documents
    assert not doc.lines_complete and sync_page.max_timestamp == 50


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


def test_gl_accounts_come_from_the_sync_feed_with_every_page_and_the_newest_row(
    mocked_http, make_client
):
    # financial/GLAccounts refuses an unfiltered GET (mandatory filtering, reference §3.4):
    # GL accounts are read through sync/Financial/GLAccounts from Timestamp 0, all pages.
    row = {"ID": key(1), "Code": "8000", "Description": "Omzet", "IsBlocked": False}
    next_url = f"{D}/sync/Financial/GLAccounts?$skiptoken=3L"
    mocked_http.get(
        f"{D}/sync/Financial/GLAccounts",
        json=page(
            [{**row, "Timestamp": 3}, {**row, "ID": key(2), "Code": "4000", "Timestamp": 2}],
            next_url,
        ),
        match=q(
            {"$filter": "Timestamp gt 0L", "$select": "ID,Code,Description,IsBlocked,Timestamp"}
        ),
    )
    mocked_http.get(
        next_url,
        json=page([{**row, "Description": "Omzet NL", "IsBlocked": True, "Timestamp": 9}]),
        match=q({"$skiptoken": "3L"}),
    )
    accounts = sorted(make_client().list_gl_accounts(101), key=lambda g: g.code)
    assert [(g.code, g.description, g.is_blocked) for g in accounts] == [
        ("4000", "Omzet", False),
        ("8000", "Omzet NL", True),  # the later row of the same account wins
    ]
    assert all("financial/GLAccounts" not in c.request.url for c in mocked_http.calls)


def test_gl_accounts_and_cost_centers(mocked_http, make_client):
    mocked_http.get(
        f"{D}/sync/Financial/GLAccounts",
        json=page(
            [
                {
                    "ID": key(1),
                    "Code": "8000",
                    "Description": "Omzet",
                    "IsBlocked": False,
                    "Timestamp": 5,
                }
            ]
        ),
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


def test_key_batches_stay_under_the_url_limit_on_the_longest_host_and_use_it_fully(
    mocked_http, tokens
):
    # Reference §1 table, §3.9: 6,000 characters after encoding. The longest regional host
    # (§1.1) and a seven-digit division; 200 orders whose lines changed without their header.
    from integrations.exact.client import MAX_URL_LENGTH, NEXT_LINK_ROOM, ExactClient

    base, division = "https://start.exactonline.co.uk", 9999999
    api = f"{base}/api/v1/{division}"
    orders = [key(1000 + i) for i in range(200)]
    line = {"LineNumber": 1, "Description": "", "Quantity": 1, "AmountDC": 5, "AmountFC": 5}
    rows = [
        {**line, "ID": key(5000 + i), "OrderID": order, "Timestamp": 100 + i}
        for i, order in enumerate(orders)
    ]
    mocked_http.get(f"{api}/sync/SalesOrder/SalesOrderHeaders", json=page([]))
    mocked_http.get(f"{api}/sync/SalesOrder/SalesOrderLines", json=page(rows))
    urls = []

    def answer(request):
        urls.append(request.url)
        return 200, {"Content-Type": "application/json"}, json.dumps(page([]))

    mocked_http.add_callback("GET", f"{api}/salesorder/SalesOrders", callback=answer)
    client = ExactClient(base, token_source=tokens, sleep=lambda s: None)
    list(client.iter_changes(Entity.SALES_ORDER, division, since=40))
    asked = [k for url in urls for k in re.findall(r"guid'([0-9a-f-]{36})'", unquote_plus(url))]
    assert sorted(asked) == sorted(orders)  # every key once
    budget = MAX_URL_LENGTH - NEXT_LINK_ROOM  # room for the $skiptoken of Exact's __next
    assert all(len(url) <= budget for url in urls)
    assert len(urls) < 200 / 40  # fewer calls than fixed batches of 40 keys
    per_key = len("+or+%28OrderID+eq+guid%27%27%29") + 36
    # One more key would not fit, or the batch holds a page of keys already: a regular
    # endpoint answers 60 rows a page, so 60 headers are one call where 75 would be two.
    full = lambda url: len(re.findall(r"guid'", unquote_plus(url))) == 60  # noqa: E731
    assert all(len(url) + per_key > budget or full(url) for url in urls[:-1])


def test_count_modified_since_asks_the_regular_endpoint_for_an_inline_count(
    mocked_http, make_client
):
    # Reference §3.2: `$inlinecount=allpages` adds "__count" (a string) to `d`; `$top=1` keeps
    # the answer to one row. The sync feeds carry no total.
    mocked_http.get(
        f"{D}/salesinvoice/SalesInvoices",
        json={"d": {"results": [{"InvoiceID": key(1)}], "__count": "10000"}},
        match=q(
            {
                "$filter": "Modified ge datetime'2026-01-01T00:00:00'",
                "$select": "InvoiceID",
                "$top": "1",
                "$inlinecount": "allpages",
            }
        ),
    )
    assert make_client().count_modified_since(Entity.SALES_INVOICE, 101, date(2026, 1, 1)) == 10_000


def test_count_modified_since_without_a_count_in_the_answer_is_an_unexpected_response(
    mocked_http, make_client
):
    from integrations.exact.responses import UnexpectedResponse

    mocked_http.get(f"{D}/salesinvoice/SalesInvoices", json={"d": {"results": []}})
    with pytest.raises(UnexpectedResponse):
        make_client().count_modified_since(Entity.SALES_INVOICE, 101, date(2026, 1, 1))
