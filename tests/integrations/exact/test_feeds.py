from decimal import Decimal

import pytest

from integrations.exact.feeds import CombinedFeedGrouper, keys_in_batches, safe_cursor, with_last
from integrations.exact.specs import SALES_INVOICE
from tests.integrations.exact.rows import fixture, key, si_sync_rows

FEED = SALES_INVOICE.sync_feeds[0]


def run(grouper, *pages):
    """Every SyncPage the grouper hands out for these feed pages and the end of the feed."""
    out = [sync_page for rows in pages for sync_page in grouper.read(rows)]
    return out + list(grouper.finish())


def docs(sync_pages):
    return [doc for sync_page in sync_pages for doc in sync_page.documents]


def test_header_and_line_rows_become_one_document():
    rows = fixture("sync_sales_invoices_page.json")["d"]["results"]
    grouper = CombinedFeedGrouper(SALES_INVOICE, FEED, 101, since=1)
    [doc] = docs(run(grouper, rows))
    assert doc.number == "26000145" and doc.amount_fc == Decimal("1210.00")
    assert [line.description for line in doc.lines] == ["Maintenance"]
    assert doc.timestamp == 90210332 and doc.lines_complete
    assert grouper.cursor == 90210332


def test_a_document_split_over_two_pages_comes_out_once_whole():
    rows = si_sync_rows(1, ts=10) + si_sync_rows(2, ts=20)  # 4 rows each
    grouper = CombinedFeedGrouper(SALES_INVOICE, FEED, 101, since=1)
    assert list(grouper.read(rows[:6])) == []  # invoice 2 may go on: nothing out yet
    pages = run(grouper, rows[6:])
    assert [d.key.int for d in docs(pages)] == [1, 2]
    assert len(docs(pages)[1].lines) == 3
    assert [p.max_timestamp for p in pages] == [23] and [p.rows for p in pages] == [8]


def test_rows_of_two_documents_interleaved_across_pages():
    one, two = si_sync_rows(1, ts=0), si_sync_rows(2, ts=0)
    mixed = [r for pair in zip(one, two, strict=True) for r in pair]
    for ts, row in enumerate(mixed, start=10):
        row["Timestamp"] = ts
    pages = run(CombinedFeedGrouper(SALES_INVOICE, FEED, 101, since=1), mixed[:3], mixed[3:])
    assert sorted(d.key.int for d in docs(pages)) == [1, 2]
    assert all(len(d.lines) == 3 and d.lines_complete for d in docs(pages))


def test_cursor_never_moves_back():
    grouper = CombinedFeedGrouper(SALES_INVOICE, FEED, 101, since=500)
    run(grouper, si_sync_rows(1, ts=10))
    assert grouper.cursor == 500


def test_an_empty_feed_hands_out_nothing():
    assert run(CombinedFeedGrouper(SALES_INVOICE, FEED, 101, since=5), []) == []


def test_rows_without_header_are_read_whole_by_the_poller():
    rows = si_sync_rows(3, ts=30, header=False)
    [doc] = docs(run(CombinedFeedGrouper(SALES_INVOICE, FEED, 101, since=1), rows))
    # The sum of the lines is not the header's total (VAT), and the description is unknown.
    assert not doc.lines_complete
    assert doc.account_name == "Customer 3" and len(doc.lines) == 3


def test_a_line_seen_twice_keeps_its_newest_row_and_the_order_is_read_whole():
    rows = si_sync_rows(4, ts=40, lines=1)
    newer = {**rows[1], "Timestamp": 99, "AmountFC": Decimal("7")}
    [doc] = docs(run(CombinedFeedGrouper(SALES_INVOICE, FEED, 101, since=1), [newer] + rows))
    assert [line.amount_fc for line in doc.lines] == [Decimal("7")]
    assert doc.lines[0].id.int == 4001 and key(4001)
    assert not doc.lines_complete  # restamped while read: a line may be gone


def test_documents_come_out_in_batches_each_with_a_safe_cursor():
    rows = [r for n in range(1, 6) for r in si_sync_rows(n, ts=10 * n, lines=2)]
    grouper = CombinedFeedGrouper(SALES_INVOICE, FEED, 101, since=1, per_page=2)
    pages = run(grouper, rows)
    assert [[d.key.int for d in p.documents] for p in pages] == [[1, 2], [3, 4], [5]]
    assert [p.max_timestamp for p in pages] == [29, 49, 52]


def test_a_full_buffer_hands_out_what_lies_before_the_last_page_and_moves_the_cursor():
    pages_in = [[r for n in range(k, k + 2) for r in si_sync_rows(n, ts=10 * n)] for k in (1, 3, 5)]
    grouper = CombinedFeedGrouper(SALES_INVOICE, FEED, 101, since=1, max_rows=8)
    assert list(grouper.read(pages_in[0])) == []
    [early] = grouper.read(pages_in[1])  # 16 rows held: invoices 1-2 lie before the last page
    assert [d.key.int for d in early.documents] == [1, 2] and early.max_timestamp == 29
    assert early.rows == 16
    rest = [p for rows in pages_in[2:] for p in grouper.read(rows)] + list(grouper.finish())
    assert [d.key.int for d in docs(rest)] == [3, 4, 5, 6]
    assert all(d.lines_complete for d in docs([early, *rest]))
    assert rest[-1].max_timestamp == 63


def test_a_document_that_goes_on_after_the_buffer_was_emptied_is_read_whole():
    first = si_sync_rows(1, ts=10)
    late = [{**r, "Timestamp": 50 + i} for i, r in enumerate(si_sync_rows(9, ts=0)[1:])]
    late[0]["InvoiceID"] = key(1)  # a line of invoice 1, written far from its other rows
    grouper = CombinedFeedGrouper(SALES_INVOICE, FEED, 101, since=1, max_rows=4)
    pages = run(grouper, first, si_sync_rows(2, ts=20), late[:1], late[1:])
    ones = [d for d in docs(pages) if d.key.int == 1]
    assert [d.lines_complete for d in ones] == [True, False]


def test_safe_cursor_stops_before_held_documents_and_never_inside_one_handed_out():
    assert safe_cursor(1, 100, [(10, 20)], [(30, 40)]) == 29
    assert safe_cursor(1, 100, [(10, 35)], [(30, 40)]) == 9  # 10..35 would be cut at 29
    assert safe_cursor(1, 100, [(5, 12), (10, 35)], [(30, 40)]) == 4
    assert safe_cursor(1, 100, [(10, 20)], []) == 100
    assert safe_cursor(50, 100, [(10, 60)], [(30, 40)]) == 50


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
