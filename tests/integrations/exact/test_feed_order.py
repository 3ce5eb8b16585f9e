"""Sync feeds whose rows come in any order, on any page (reference §5.1 promises neither).

Random documents with 0..n lines; their rows interleaved at random (Timestamps rise along the
feed, as Exact orders it); the feed cut into pages at random places. Every document must come
out exactly once, with all its lines and the right totals, and every cursor handed out must be
one a poll can restart from.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from decimal import Decimal
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.exact import readers
from integrations.exact.readers import EntityReaders
from integrations.models import Entity
from tests.integrations.exact.rows import key

SINCE = 1000
AMOUNTS = st.decimals(min_value=-500, max_value=5000, places=2, allow_nan=False)


class FeedReader(EntityReaders):
    """EntityReaders over prepared sync feeds, cut into pages where the test says."""

    def __init__(self, feeds: dict[str, list[dict]], cuts: list[int]):
        self.feeds, self.cuts = feeds, cuts

    def iter_pages(self, path, *, division, params=None, max_pages=None, priority="normal"):
        found = re.search(r"Timestamp gt (\d+)L", (params or {}).get("$filter", ""))
        after = int(found.group(1)) if found else 0
        rows = [r for r in self.feeds.get(path, []) if r["Timestamp"] > after]
        edges = sorted({c for c in self.cuts if 0 < c < len(rows)})
        for start, end in zip([0, *edges], [*edges, len(rows)], strict=True):
            yield rows[start:end]


@st.composite
def documents(draw):
    """[(line amounts)] per document, and a random interleaving of all their rows."""
    docs = draw(st.lists(st.lists(AMOUNTS, max_size=5), min_size=1, max_size=8))
    rows = [(d, n) for d, lines in enumerate(docs) for n in range(len(lines) + 1)]
    order = draw(st.permutations(rows))
    cuts = draw(st.lists(st.integers(min_value=1, max_value=len(rows)), max_size=8))
    per_page = draw(st.integers(min_value=1, max_value=4))
    return docs, order, cuts, per_page


def header_amount(lines) -> Decimal:
    return (sum(lines, Decimal(0)) * Decimal("1.21")).quantize(Decimal("0.01"))


def line_id(d: int, n: int) -> str:
    return key(10_000 + 100 * d + n)


def combined_feed(entity: str, docs, order) -> tuple[str, list[dict], str]:
    """The rows of sync/SalesInvoice/SalesInvoices or sync/PurchaseOrder/PurchaseOrders."""
    po = entity == Entity.PURCHASE_ORDER
    doc_key = "PurchaseOrderID" if po else "InvoiceID"
    rows = []
    for ts, (d, n) in enumerate(order, start=SINCE + 1):
        row = {
            "Timestamp": ts,
            doc_key: key(d + 1),
            "LineNumber": n,
            "Currency": "EUR",
            "Modified": None,
            "Quantity": Decimal(1),
        }
        if po:
            row.update(OrderNumber=5000 + d, OrderStatus=10, SupplierName=f"Supplier {d}")
        else:
            row.update(InvoiceNumber=26000000 + d, Status=20, Type=8020, InvoiceToName=f"C {d}")
        if n == 0:
            amount = header_amount(docs[d])
            row.update(ID=key(900 + d), AmountFC=amount, AmountDC=amount, Description=f"Doc {d}")
        else:
            row.update(ID=line_id(d, n), AmountFC=docs[d][n - 1], AmountDC=docs[d][n - 1])
            row.update(Description=f"Line {n}")
            code = f"KP-{d}{n}"
            if po:  # GUID in CostCenter, the code beside it (reference §6.3)
                row.update(CostCenter=key(70_000 + d), CostCenterCode=code, CostUnitCode="U")
            else:
                row.update(CostCenter=code, CostUnit="U", GLAccount=key(8000))
        rows.append(row)
    path = "sync/PurchaseOrder/PurchaseOrders" if po else "sync/SalesInvoice/SalesInvoices"
    return path, rows, doc_key


def sales_order_feeds(docs, order) -> tuple[dict[str, list[dict]], list[dict]]:
    """SalesOrderHeaders and SalesOrderLines rows; Timestamps are global across both."""
    headers, lines = [], []
    for ts, (d, n) in enumerate(order, start=SINCE + 1):
        common = {"Timestamp": ts, "OrderID": key(d + 1), "Description": f"Doc {d}"}
        if n == 0:
            amount = header_amount(docs[d])
            headers.append(
                {
                    **common,
                    "ID": key(900 + d),
                    "OrderNumber": 7000 + d,
                    "Currency": "EUR",
                    "AmountFC": amount,
                    "AmountDC": amount,
                    "OrderedByName": f"C {d}",
                    "Status": 12,
                    "Modified": None,
                    "OrderDate": None,
                }
            )
        else:
            amount = docs[d][n - 1]
            lines.append(
                {
                    **common,
                    "ID": line_id(d, n),
                    "LineNumber": n,
                    "Description": f"Line {n}",
                    "CostCenter": f"KP-{d}{n}",
                    "CostUnit": "U",
                    "Quantity": Decimal(1),
                    "AmountFC": amount,
                    "AmountDC": amount,
                }
            )
    feeds = {
        "sync/SalesOrder/SalesOrderHeaders": headers,
        "sync/SalesOrder/SalesOrderLines": lines,
    }
    return feeds, headers + lines


def check(entity, docs, all_rows, doc_key, pages, *, whole_from_feed: bool) -> None:
    handed = [doc for page in pages for doc in page.documents]
    counts = Counter(str(doc.key) for doc in handed)
    assert counts == Counter(key(d + 1) for d in range(len(docs)))  # each exactly once
    for doc in handed:
        d = uuid.UUID(str(doc.key)).int - 1
        assert doc.amount_fc == header_amount(docs[d])  # the header's total, not the lines'
        assert sorted(str(line.id) for line in doc.lines) == sorted(
            line_id(d, n) for n in range(1, len(docs[d]) + 1)
        )
        assert sum((ln.amount_fc for ln in doc.lines), Decimal(0)) == sum(docs[d], Decimal(0))
        assert [ln.cost_center for ln in doc.lines] == [
            f"KP-{d}{n}" for n in range(1, len(docs[d]) + 1)
        ]
        if whole_from_feed:
            assert doc.lines_complete and doc.description == f"Doc {d}"
    # Cursors: rising, ending at the feed's end, and each one safe to restart from.
    stamps: dict[str, list[int]] = {}
    for row in all_rows:
        stamps.setdefault(row[doc_key].lower(), []).append(row["Timestamp"])
    cursors = [page.max_timestamp for page in pages]
    assert cursors == sorted(cursors) and cursors[-1] == max(r["Timestamp"] for r in all_rows)
    out: set[str] = set()
    for page in pages:
        out |= {str(doc.key) for doc in page.documents}
        cursor = page.max_timestamp
        for k, ts in stamps.items():
            if min(ts) <= cursor:
                assert k in out, "a row at or below the cursor belongs to a document not out"
                if whole_from_feed:
                    assert max(ts) <= cursor, "a restart would read part of a document"


def read_all(entity, feeds, cuts, per_page):
    with mock.patch.object(readers, "DOCUMENTS_PER_PAGE", per_page):
        return list(FeedReader(feeds, cuts).iter_changes(entity, 101, since=SINCE))


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(documents())
def test_sales_invoices_come_out_once_and_whole_whatever_the_row_order(case):
    docs, order, cuts, per_page = case
    path, rows, doc_key = combined_feed(Entity.SALES_INVOICE, docs, order)
    pages = read_all(Entity.SALES_INVOICE, {path: rows}, cuts, per_page)
    check(Entity.SALES_INVOICE, docs, rows, doc_key, pages, whole_from_feed=True)


@SETTINGS
@given(documents())
def test_purchase_orders_come_out_once_and_whole_whatever_the_row_order(case):
    docs, order, cuts, per_page = case
    path, rows, doc_key = combined_feed(Entity.PURCHASE_ORDER, docs, order)
    pages = read_all(Entity.PURCHASE_ORDER, {path: rows}, cuts, per_page)
    check(Entity.PURCHASE_ORDER, docs, rows, doc_key, pages, whole_from_feed=True)


@SETTINGS
@given(documents())
def test_sales_orders_come_out_once_with_every_line_whatever_the_row_order(case):
    docs, order, cuts, per_page = case
    feeds, rows = sales_order_feeds(docs, order)
    pages = read_all(Entity.SALES_ORDER, feeds, cuts, per_page)
    # The sales-order feeds carry only changed lines, so the poller reads orders whole anyway.
    check(Entity.SALES_ORDER, docs, rows, "OrderID", pages, whole_from_feed=False)


def test_sales_order_cursor_moves_after_each_batch_not_only_at_the_end():
    docs = [[Decimal(5)], [Decimal(6)], [Decimal(7)]]
    order = [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]  # 1001 .. 1006
    feeds, rows = sales_order_feeds(docs, order)
    pages = read_all(Entity.SALES_ORDER, feeds, [], per_page=1)
    assert [[d.number for d in p.documents] for p in pages] == [["7000"], ["7001"], ["7002"]]
    assert [p.max_timestamp for p in pages] == [1002, 1004, 1006]
