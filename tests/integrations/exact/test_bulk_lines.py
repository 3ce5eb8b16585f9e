"""Lines read by key batch from Exact's bulk lines endpoints (reference §5.4-§5.5: 1,000 rows a
page, $select mandatory), and the fallback to the regular endpoint when a bulk endpoint refuses
the filter on the parent key (§3.4)."""

import json
import math
import re
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, unquote_plus, urlsplit

import pytest

from integrations.errors import RemoteRejected
from integrations.exact.client import MAX_URL_LENGTH, NEXT_LINK_ROOM
from integrations.models import Entity
from tests.integrations.exact.conftest import API
from tests.integrations.exact.rows import key, page

D = f"{API}/101"
BULK = f"{D}/bulk/SalesOrder/SalesOrderLines"
REGULAR = f"{D}/salesorder/SalesOrderLines"
LINE_SELECT = "OrderID,ID,LineNumber,Description,CostCenter,CostUnit,Quantity,AmountDC,AmountFC"
REFUSAL = {"error": {"message": {"value": "Filtering on these fields is not supported: OrderID"}}}
SINCE = 40


def headers_feed(orders: list[str]) -> list[dict]:
    return [
        {
            "Timestamp": SINCE + 1 + n,
            "ID": order,
            "OrderID": order,
            "OrderNumber": 7000 + n,
            "OrderDate": None,
            "Currency": "EUR",
            "AmountFC": Decimal(30),
            "AmountDC": Decimal(30),
            "OrderedByName": f"C {n}",
            "Description": f"Changed {n}",
            "Status": 12,
            "Modified": None,
        }
        for n, order in enumerate(orders)
    ]


def lines_answer(urls: list[str], status: int = 200, body: dict | None = None):
    """A callback answering every line (3 an order) of the orders in the request's $filter."""

    def answer(request):
        urls.append(request.url)
        if status != 200:
            return status, {"Content-Type": "application/json"}, json.dumps(body)
        asked = re.findall(r"guid'([0-9a-f-]{36})'", unquote_plus(request.url))
        rows = [
            {
                "OrderID": order,
                "ID": key(100_000 + i * 10 + n),
                "LineNumber": n,
                "Description": f"Line {n}",
                "CostCenter": "KP-100",
                "CostUnit": "",
                "Quantity": 1,
                "AmountDC": 10,
                "AmountFC": 10,
            }
            for i, order in enumerate(asked)
            for n in (1, 2, 3)
        ]
        return 200, {"Content-Type": "application/json"}, json.dumps(page(rows))

    return answer


def changed_orders(mocked_http, client, orders: list[str]):
    """The orders as the header feed hands them out after a header change: lines unknown."""
    mocked_http.get(f"{D}/sync/SalesOrder/SalesOrderHeaders", json=page(headers_feed(orders)))
    mocked_http.get(f"{D}/sync/SalesOrder/SalesOrderLines", json=page([]))
    mocked_http.get(f"{D}/sync/SalesOrder/SalesOrderHeaders", json=page([]))
    docs = [
        d for p in client.iter_changes(Entity.SALES_ORDER, 101, since=SINCE) for d in p.documents
    ]
    assert len(docs) == len(orders) and not any(d.lines_complete for d in docs)
    return docs


def keys_per_url(client, path: str) -> int:
    """The most order keys whose `or`-filter fits Exact's URL limit (§3.9), measured on the URL
    as requests encodes it, with room for the $skiptoken of Exact's __next."""
    budget = MAX_URL_LENGTH - NEXT_LINK_ROOM
    n = 1
    while True:
        flt = " or ".join(f"(OrderID eq guid'{key(10**6 + i)}')" for i in range(n + 1))
        url = client.encoded_url(path, 101, {"$filter": flt, "$select": LINE_SELECT})
        if len(url) > budget:
            return n
        n += 1


def test_lines_of_150_changed_orders_come_from_the_bulk_endpoint_in_url_sized_batches(
    mocked_http, make_client
):
    client = make_client()
    orders = [key(1000 + i) for i in range(150)]
    docs = changed_orders(mocked_http, client, orders)
    urls: list[str] = []
    mocked_http.add_callback("GET", BULK, callback=lines_answer(urls))
    complete = client.complete_documents(Entity.SALES_ORDER, 101, docs)
    allowed = math.ceil(150 / keys_per_url(client, "bulk/SalesOrder/SalesOrderLines"))
    assert allowed < math.ceil(150 / 60)  # fewer calls than batches of a regular page
    assert 1 <= len(urls) <= allowed, len(urls)
    assert all(len(url) <= MAX_URL_LENGTH - NEXT_LINK_ROOM for url in urls)
    for url in urls:
        assert urlsplit(url).path == "/api/v1/101/bulk/SalesOrder/SalesOrderLines"
        assert parse_qs(urlsplit(url).query)["$select"] == [LINE_SELECT]
    asked = [k for url in urls for k in re.findall(r"guid'([0-9a-f-]{36})'", unquote_plus(url))]
    assert sorted(asked) == sorted(orders)  # every order once
    assert [d.key for d in complete] == [d.key for d in docs]
    assert all(
        d.lines_complete and [ln.line_number for ln in d.lines] == [1, 2, 3] for d in complete
    )


def test_a_refused_bulk_filter_falls_back_to_the_regular_endpoint_and_is_not_sent_again(
    mocked_http, make_client
):
    client = make_client()  # no shared budget: the client itself remembers
    orders = [key(1000 + i) for i in range(70)]
    docs = changed_orders(mocked_http, client, orders)
    refused: list[str] = []
    mocked_http.add_callback("GET", BULK, callback=lines_answer(refused, 400, REFUSAL))
    regular: list[str] = []
    mocked_http.add_callback("GET", REGULAR, callback=lines_answer(regular))
    first = client.complete_documents(Entity.SALES_ORDER, 101, docs)
    assert len(refused) == 1  # one 400 spent
    asked = [k for url in regular for k in re.findall(r"guid'([0-9a-f-]{36})'", unquote_plus(url))]
    assert sorted(asked) == sorted(orders)
    assert all(len(re.findall("guid'", unquote_plus(url))) <= 60 for url in regular)
    assert all(len(d.lines) == 3 for d in first) and len(first) == 70
    again = client.complete_documents(Entity.SALES_ORDER, 101, docs)
    assert len(refused) == 1  # the bulk endpoint is not asked again
    assert [d.key for d in again] == [d.key for d in first]


def test_other_400s_of_the_bulk_endpoint_still_raise(mocked_http, make_client):
    client = make_client()
    docs = changed_orders(mocked_http, client, [key(1000)])
    mandatory = {
        "error": {
            "message": {
                "value": "This endpoint has mandatory filtering applied. A GET request for this "
                "endpoint must have a $filter parameter with one of the following fields in the "
                "url: ID"
            }
        }
    }
    mocked_http.get(BULK, status=400, json=mandatory)
    with pytest.raises(RemoteRejected):
        client.complete_documents(Entity.SALES_ORDER, 101, docs)


def test_purchase_orders_have_no_bulk_lines_endpoint_and_read_the_regular_one(
    mocked_http, make_client
):
    # Reference §5.5: no bulk endpoint found for purchase orders or purchase invoices.
    lines = f"{D}/purchaseorder/PurchaseOrderLines"
    header = {"PurchaseOrderID": key(1), "OrderNumber": 1, "OrderStatus": 10, "Currency": "EUR"}
    mocked_http.get(f"{D}/purchaseorder/PurchaseOrders", json=page([header]))
    mocked_http.get(lines, json=page([]))
    found = make_client().get_documents(Entity.PURCHASE_ORDER, 101, [uuid.UUID(key(1))])
    assert [str(k) for k in found] == [key(1)]
    assert [urlsplit(c.request.url).path for c in mocked_http.calls][-1] == urlsplit(lines).path
