"""Sync-feed rows back into documents, and the safe cursor for each page. Pure functions.

Sales-invoice and purchase-order sync feeds return one row per line (LineNumber >= 1) plus a
header row (LineNumber 0), all carrying the document key and the header fields (reference §5.1).
A page of 1,000 rows can end in the middle of a document, so the last document of a page is held
back and completed with the next page; the cursor of a page never passes a row not handed out.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from integrations.exact.entities import (
    EntitySpec,
    ExactDocument,
    SyncFeed,
    parse_document,
    parse_line,
)

T = TypeVar("T")


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


def document_from_rows(
    spec: EntitySpec, feed: SyncFeed, division: int, rows: list[dict[str, Any]]
) -> ExactDocument:
    """One document from its sync rows. Without a header row (LineNumber 0) the header fields
    repeated on the line rows are used and the totals are the sum of the lines."""
    header = next((r for r in rows if not r.get("LineNumber")), None)
    by_id: dict[str, dict] = {}
    for row in rows:
        if row.get("LineNumber"):
            by_id[str(row["ID"]).lower()] = row  # a later row of the same line wins
    lines = [
        parse_line(
            spec,
            row,
            cost_center_field=feed.cost_center_field,
            cost_unit_field=feed.cost_unit_field,
        )
        for row in by_id.values()
    ]
    timestamp = max(int(r["Timestamp"]) for r in rows)
    return parse_document(
        spec,
        division,
        header if header is not None else rows[0],
        lines,
        timestamp=timestamp,
        amounts_from_lines=header is None,
    )


class CombinedFeedGrouper:
    """Feeds pages of a combined (header + lines) sync feed; returns documents per page."""

    def __init__(self, spec: EntitySpec, feed: SyncFeed, division: int, since: int) -> None:
        self.spec, self.feed, self.division = spec, feed, division
        self.cursor = since
        self.carry: list[dict[str, Any]] = []

    def page(self, rows: list[dict[str, Any]], *, is_last: bool) -> list[ExactDocument]:
        rows = self.carry + rows
        groups = group_by_key(rows, self.spec.key_field)
        self.carry = []
        if not is_last and rows:
            held_key = str(rows[-1][self.spec.key_field]).lower()
            self.carry = groups.pop(held_key)
        documents = [
            document_from_rows(self.spec, self.feed, self.division, group)
            for group in groups.values()
        ]
        emitted = [int(r["Timestamp"]) for g in groups.values() for r in g]
        if emitted:
            safe = max(emitted)
            if self.carry:
                safe = min(safe, min(int(r["Timestamp"]) for r in self.carry) - 1)
            self.cursor = max(self.cursor, safe)
        return documents


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
