from decimal import Decimal

import pytest

from integrations.exact.entities import SALES_INVOICE
from integrations.exact.feeds import CombinedFeedGrouper, keys_in_batches, with_last
from tests.integrations.exact.rows import fixture, key, si_sync_rows

FEED = SALES_INVOICE.sync_feeds[0]


def test_header_and_line_rows_become_one_document():
    rows = fixture("sync_sales_invoices_page.json")["d"]["results"]
    grouper = CombinedFeedGrouper(SALES_INVOICE, FEED, 101, since=1)
    [doc] = grouper.page(rows, is_last=True)
    assert doc.number == "26000145" and doc.amount_fc == Decimal("1210.00")
    assert [line.description for line in doc.lines] == ["Maintenance"]
    assert doc.timestamp == 90210332
    assert grouper.cursor == 90210332


def test_document_split_over_two_pages_is_held_back_and_completed():
    rows = si_sync_rows(1, ts=10) + si_sync_rows(2, ts=20)  # 4 rows each
    grouper = CombinedFeedGrouper(SALES_INVOICE, FEED, 101, since=1)
    first = grouper.page(rows[:6], is_last=False)  # page ends inside invoice 2
    assert [d.key.int for d in first] == [1]
    assert grouper.cursor == 13  # never past a row of invoice 2, still held back
    second = grouper.page(rows[6:], is_last=True)
    assert [d.key.int for d in second] == [2]
    assert len(second[0].lines) == 3
    assert grouper.cursor == 23


def test_cursor_never_moves_back():
    grouper = CombinedFeedGrouper(SALES_INVOICE, FEED, 101, since=500)
    grouper.page(si_sync_rows(1, ts=10), is_last=True)
    assert grouper.cursor == 500


def test_rows_without_header_take_totals_from_the_lines():
    rows = si_sync_rows(3, ts=30, header=False)
    [doc] = CombinedFeedGrouper(SALES_INVOICE, FEED, 101, since=1).page(rows, is_last=True)
    assert doc.amount_fc == Decimal("300.00")
    assert doc.account_name == "Customer 3" and len(doc.lines) == 3


def test_a_line_seen_twice_keeps_its_newest_row():
    rows = si_sync_rows(4, ts=40, lines=1)
    newer = {**rows[1], "Timestamp": 99, "AmountFC": Decimal("7")}
    [doc] = CombinedFeedGrouper(SALES_INVOICE, FEED, 101, since=1).page(
        rows + [newer], is_last=True
    )
    assert [line.amount_fc for line in doc.lines] == [Decimal("7")]
    assert doc.lines[0].id.int == 4001 and key(4001)


def test_with_last_marks_the_final_item():
    assert list(with_last([1, 2, 3])) == [(1, False), (2, False), (3, True)]
    assert list(with_last([])) == []


def test_keys_come_in_batches_of_at_most_max_size():
    batches = list(keys_in_batches(range(95), max_size=40))
    assert [len(b) for b in batches] == [40, 40, 15]


def test_a_batch_grows_while_it_fits_and_no_longer():
    # `fits` stands for "the encoded URL of this batch is under Exact's limit".
    batches = list(keys_in_batches(range(95), fits=lambda batch: sum(batch) <= 1000))
    assert [b for batch in batches for b in batch] == list(range(95))
    assert all(sum(b) <= 1000 for b in batches)
    assert all(sum(b) + nxt[0] > 1000 for b, nxt in zip(batches, batches[1:], strict=False))


def test_a_key_that_does_not_fit_alone_is_an_error_not_a_too_long_url():
    with pytest.raises(ValueError):
        list(keys_in_batches([1, 5000], fits=lambda batch: sum(batch) <= 1000))
