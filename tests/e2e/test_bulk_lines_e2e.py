"""Changed sales orders under the real limits: a header change bumps only the header (reference
§5.1), so every changed order's lines are read again, by key batch from the bulk lines endpoint
(§5.4: 1,000 rows a page, so the URL limit of §3.9 is the only cap on a batch). When the bulk
endpoint refuses the filter on the order key (§3.4), the regular endpoint reads them, one 400 is
spent, and no process sends that filter again."""

from __future__ import annotations

import math
import uuid
from datetime import date
from decimal import Decimal

import pytest

from integrations.exact import connections
from integrations.exact.client import MAX_URL_LENGTH, NEXT_LINK_ROOM
from integrations.models import Entity, SyncedRecord
from integrations.sync import polling

pytestmark = pytest.mark.django_db
N = 200
BULK = "bulk/SalesOrder/SalesOrderLines"
LINE_SELECT = "OrderID,ID,LineNumber,Description,CostCenter,CostUnit,Quantity,AmountDC,AmountFC"


@pytest.fixture
def orders(stack):
    """N sales orders of 1 to 3 lines, backfilled, then every header changed in Exact. The
    largest line decides the cost center (item_builder.header_codes): KP-200 on odd orders."""
    stack.connect()
    stack.add_reference_data()
    route = stack.sales_order_route("KP-100", "KP-200")
    made = []
    for n in range(N):
        main, other = ("KP-200", "KP-100") if n % 2 else ("KP-100", "KP-200")
        lines = [{"CostCenter": main, "Description": "Main", "AmountFC": 100 + n}]
        lines += [{"CostCenter": other, "Description": "Extra", "AmountFC": 1}] * (n % 3)
        made.append(
            stack.exact.add_sales_order(
                101,
                account=stack.customer["ID"],
                order_date=date(2026, 11, 2),
                lines=lines,
                description=f"Order {n}",
            )
        )
    assert polling.poll_division(route, 101)["written"] == N
    for n, order in enumerate(made):
        stack.exact.update_sales_order(101, order["OrderID"], Description=f"Changed {n}")
    stack.route_obj = route
    return made


def keys_per_url(stack) -> int:
    """The most order keys whose `or`-filter on the bulk lines fits Exact's URL limit (§3.9),
    measured on the URL as the client encodes it, with room for the __next $skiptoken."""
    client = connections.for_connection(stack.exact_conn)
    n = 1
    while True:
        flt = " or ".join(
            f"(OrderID eq guid'{'0' * 8}-0000-0000-0000-{i:012d}')" for i in range(n + 1)
        )
        url = client.encoded_url(BULK, 101, {"$filter": flt, "$select": LINE_SELECT})
        if len(url) > MAX_URL_LENGTH - NEXT_LINK_ROOM:
            return n
        n += 1


def calls_since(stack, before: int) -> list[tuple[str, str, int]]:
    return stack.exact.calls[before:]


def assert_board_right(stack, made, *, again: int = 0) -> None:
    """Every order once on the board, as Exact has it now (the first `again` changed twice)."""
    items = {i["texts"]["exact_key"]: i for i in stack.items()}
    assert sorted(items) == sorted(o["OrderID"].lower() for o in made)
    for n, order in enumerate(made):
        texts = items[order["OrderID"].lower()]["texts"]
        assert texts["description"] == (f"Again {n}" if n < again else f"Changed {n}")
        assert Decimal(texts["amount"]) == Decimal(str(order["AmountFC"]))
        assert texts["cost_center"] == ("KP-200" if n % 2 else "KP-100"), texts
    records = SyncedRecord.objects.filter(route=stack.route_obj)
    assert records.count() == N
    assert set(records.values_list("state", flat=True)) == {SyncedRecord.State.SYNCED}
    assert not any(records.values_list("review_reasons", flat=True))


def test_200_changed_sales_orders_read_their_lines_from_the_bulk_endpoint(stack, orders):
    before = len(stack.exact.calls)
    counts = polling.poll_division(stack.route_obj, 101)
    calls = calls_since(stack, before)
    paths = [path.split("/101/", 1)[1] for _, path, _ in calls]
    # Header feed (200 rows: one page), lines feed, the header re-check, the deleted feed; then
    # the lines by key batch, per write batch of the poll (it completes each before writing
    # it): as many keys a call as the URL takes, each call's lines (3 an order at most) one
    # 1,000-row page.
    feeds = 1 + 1 + 1 + 1
    per_url = keys_per_url(stack)
    chunks = [min(polling.WRITE_BATCH, N - i) for i in range(0, N, polling.WRITE_BATCH)]
    batches = sum(math.ceil(chunk / per_url) for chunk in chunks)
    assert counts["written"] == N
    assert len(calls) <= feeds + batches, " | ".join(paths)
    assert paths.count(BULK) == batches
    assert "salesorder/SalesOrderLines" not in paths
    assert {status for _, _, status in calls} == {200}
    assert_board_right(stack, orders)


def test_a_refused_bulk_filter_costs_one_400_and_is_not_sent_again_by_any_process(stack, orders):
    stack.exact.refuse_bulk_filter(BULK, "OrderID")
    before = len(stack.exact.calls)
    counts = polling.poll_division(stack.route_obj, 101)
    calls = calls_since(stack, before)
    assert counts["written"] == N
    assert [(p.split("/101/", 1)[1], s) for _, p, s in calls if s != 200] == [(BULK, 400)]
    assert any(p.endswith("salesorder/SalesOrderLines") for _, p, _ in calls)
    assert_board_right(stack, orders)

    # Another poll after more header changes, and another process (a fresh client object):
    # the refusal is remembered on the shared budget row, so neither sends the bulk filter.
    for n, order in enumerate(orders[:70]):
        stack.exact.update_sales_order(101, order["OrderID"], Description=f"Again {n}")
    before = len(stack.exact.calls)
    assert polling.poll_division(stack.route_obj, 101)["written"] == 70
    fresh = connections.for_connection(stack.exact_conn)
    docs = fresh.get_documents(Entity.SALES_ORDER, 101, [uuid.UUID(orders[0]["OrderID"])])
    assert len(next(iter(docs.values())).lines) == 1
    calls = calls_since(stack, before)
    assert not any(BULK in p for _, p, _ in calls)
    assert {s for _, _, s in calls} == {200}
    assert_board_right(stack, orders, again=70)
