"""Sync-feed rows back into documents, and the safe cursor for each batch. Pure functions.

Sales-invoice and purchase-order sync feeds return one row per line (LineNumber >= 1) plus a
header row (LineNumber 0), all carrying the document key and the header fields (reference §5.1).
The feed is ordered by Timestamp, but the reference does not promise that the rows of one
document come together or on one page: rows of documents written at the same time interleave,
and a page of 1,000 rows ends anywhere. So rows are grouped by document key across pages, and a
document is handed out once, with all its lines, when no later row of it can still come.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from integrations.exact.entities import ExactDocument, SyncPage, parse_document, parse_line
from integrations.exact.specs import EntitySpec, SyncFeed

T = TypeVar("T")

DOCUMENTS_PER_PAGE = 1000
# Only the end of the feed proves that a document has no more rows, so the grouper reads to the
# end before it hands documents out, up to this many rows (10 calls, some MB). Without a bound a
# first sync would hold the whole company in memory and write nothing for many minutes, and a
# worker stopped by the job timeout (Q_TIMEOUT) would start again from the same cursor, forever.
# At the bound, the documents whose rows all lie before the last page read are handed out and
# the others held back: one change's rows are written in one transaction, so a document whose
# rows are still coming has rows in the last page. Should one turn up again later in the same
# read, it is handed out once more, marked to be read whole (lines_complete=False).
MAX_BUFFERED_ROWS = 10_000


def with_last(items: Iterable[T]) -> Iterator[tuple[T, bool]]:
    """Yield (item, is_last) with one item of lookahead."""
    iterator = iter(items)
    try:
        previous = next(iterator)
    except StopIteration:
        return
    for item in iterator:
        yield previous, False
        previous = item
    yield previous, True


def group_by_key(rows: Iterable[dict[str, Any]], key_field: str) -> dict[str, list[dict]]:
    """Rows per document key, in order of first appearance."""
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(str(row[key_field]).lower(), []).append(row)
    return groups


def stamp(row: dict[str, Any]) -> int:
    return int(row["Timestamp"])


def newest_by_id(rows: Iterable[dict[str, Any]]) -> dict[str, dict]:
    """One row per line ID, the one with the highest Timestamp, whatever order they came in."""
    found: dict[str, dict] = {}
    for row in rows:
        line_id = str(row["ID"]).lower()
        if line_id not in found or stamp(row) > stamp(found[line_id]):
            found[line_id] = row
    return found


def document_from_rows(
    spec: EntitySpec,
    feed: SyncFeed,
    division: int,
    rows: list[dict[str, Any]],
    *,
    seen_before: bool = False,
) -> ExactDocument:
    """One document from all its sync rows.

    The rows are trusted for the lines when they show the document once: one header row (any
    change restamps the header and its lines, reference §5.1) and each line once. Otherwise (no
    header row, a row restamped while the feed was read, rows handed out before) the document
    is marked lines_complete=False and the poller reads it whole from the regular endpoints, as
    a webhook does: the sum of the lines is not the header total, and a line may be gone.
    """
    headers = [r for r in rows if not r.get("LineNumber")]
    line_rows = [r for r in rows if r.get("LineNumber")]
    by_id = newest_by_id(line_rows)
    lines = [
        parse_line(
            spec,
            row,
            cost_center_field=feed.cost_center_field,
            cost_unit_field=feed.cost_unit_field,
        )
        for row in by_id.values()
    ]
    header = max(headers or rows, key=stamp)
    return parse_document(
        spec,
        division,
        header,
        lines,
        timestamp=max(stamp(r) for r in rows),
        lines_complete=len(headers) == 1 and len(by_id) == len(line_rows) and not seen_before,
        amounts_from_lines=not headers,
    )


def safe_cursor(
    since: int, read_max: int, handed_out: Iterable[tuple[int, int]], held: list[tuple[int, int]]
) -> int:
    """The highest cursor a poll may store once the handed-out documents are written.

    Spans are the (first, last) Timestamps of one document's rows. Every row at or below the
    cursor belongs to a handed-out document, and no handed-out document has rows on both sides:
    a poll starting again from the cursor would read that document's later rows alone.
    """
    limit = min((first for first, _ in held), default=read_max + 1) - 1
    for first, last in sorted(handed_out, reverse=True):
        if first <= limit < last:
            limit = first - 1  # the spans further down are checked against the lower limit
    return max(since, limit)


class CombinedFeedGrouper:
    """Pages of a combined (header + lines) sync feed in, SyncPages of whole documents out.

    Call `read(rows)` for each feed page and `finish()` at the end; both yield SyncPages of at
    most `per_page` documents, each with the cursor that is safe once its documents are written.
    """

    def __init__(
        self,
        spec: EntitySpec,
        feed: SyncFeed,
        division: int,
        since: int,
        *,
        max_rows: int = MAX_BUFFERED_ROWS,
        per_page: int = DOCUMENTS_PER_PAGE,
    ) -> None:
        self.spec, self.feed, self.division = spec, feed, division
        self.cursor = self.read_max = since
        self.max_rows, self.per_page = max_rows, per_page
        self.buffer: dict[str, list[dict[str, Any]]] = {}  # rows per document key, held
        self.buffered = 0
        self.rows_read = 0  # feed rows read since the last SyncPage
        self.handed_out: set[str] = set()
        self.spans: dict[str, tuple[int, int]] = {}  # handed-out documents above the cursor

    def read(self, rows: list[dict[str, Any]]) -> Iterator[SyncPage]:
        """Take one feed page. Documents come out only when the buffer is full."""
        for row in rows:
            self.buffer.setdefault(str(row[self.spec.key_field]).lower(), []).append(row)
            self.read_max = max(self.read_max, stamp(row))
        self.buffered += len(rows)
        self.rows_read += len(rows)
        if rows and self.buffered >= self.max_rows:
            last_page_from = min(stamp(r) for r in rows)
            ready = [k for k, group in self.buffer.items() if self._span(k)[1] < last_page_from]
            if ready:
                yield from self._hand_out(ready)

    def finish(self) -> Iterator[SyncPage]:
        """The end of the feed: every document still held is whole now."""
        if self.buffer or self.rows_read:
            yield from self._hand_out(list(self.buffer))

    def _span(self, key: str) -> tuple[int, int]:
        stamps = [stamp(r) for r in self.buffer[key]]
        return min(stamps), max(stamps)

    def _hand_out(self, keys: list[str]) -> Iterator[SyncPage]:
        spans = {key: self._span(key) for key in keys}
        order = sorted(keys, key=lambda k: spans[k][1])  # oldest first: the cursor moves soonest
        chunks = [order[i : i + self.per_page] for i in range(0, len(order), self.per_page)]
        for chunk in chunks or [[]]:
            documents = []
            for key in chunk:
                before = self.spans.get(key)
                first, last = spans[key]
                self.spans[key] = (min(first, before[0]), last) if before else (first, last)
                group = self.buffer.pop(key)
                self.buffered -= len(group)
                documents.append(
                    document_from_rows(
                        self.spec,
                        self.feed,
                        self.division,
                        group,
                        seen_before=key in self.handed_out,
                    )
                )
                self.handed_out.add(key)
            held = [self._span(k) for k in self.buffer]
            safe = safe_cursor(self.cursor, self.read_max, self.spans.values(), held)
            self.cursor = max(self.cursor, safe)
            self.spans = {k: s for k, s in self.spans.items() if s[1] > self.cursor}
            yield SyncPage(documents=documents, max_timestamp=self.cursor, rows=self.rows_read)
            self.rows_read = 0


def keys_in_batches(
    keys: Iterable[uuid.UUID],
    *,
    fits: Callable[[list[uuid.UUID]], bool] = lambda batch: True,
    max_size: int | None = None,
) -> Iterator[list[uuid.UUID]]:
    """Consecutive batches of keys, each as large as `fits` allows (and at most `max_size`).

    The readers pass `fits` = "the encoded URL of this batch's request stays under Exact's
    6,000 characters" (reference §3.9), so the limit is measured, not guessed from a count.
    Raises ValueError when one key alone does not fit."""
    batch: list[uuid.UUID] = []
    for key in keys:
        if batch and (len(batch) == max_size or not fits([*batch, key])):
            yield batch
            batch = []
        if not batch and not fits([key]):
            raise ValueError("A single key does not fit in one request.")
        batch.append(key)
    if batch:
        yield batch
