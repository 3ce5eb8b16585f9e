"""What ExactClient reads of the documents: one document with its lines, the sync feeds of
changes, deletions and SyncTimestamp. Mixed into ExactClient (client.py), which provides
get/iter_pages/request; the user, divisions and reference lists are in company.py."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from integrations.exact import odata
from integrations.exact.bulk import BulkReaders
from integrations.exact.dates import AMSTERDAM
from integrations.exact.entities import (
    DeletedPage,
    ExactDocument,
    SyncPage,
    parse_deleted,
    parse_document,
    parse_line,
)
from integrations.exact.feeds import (
    DOCUMENTS_PER_PAGE,
    CombinedFeedGrouper,
    group_by_key,
    newest_by_id,
    with_last,
)
from integrations.exact.responses import UnexpectedResponse, collection
from integrations.exact.specs import EntitySpec, spec_for
from integrations.models import Entity

logger = logging.getLogger(__name__)

DELETED_SELECT = ("Timestamp", "ID", "EntityKey", "EntityType", "DeletedDate")
# Purchase invoices have no sync feed: poll Modified with an overlap, de-duplicate by ID (§5.5).
MODIFIED_OVERLAP = timedelta(minutes=10)


def _from_modified_cursor(since: int) -> datetime:
    return datetime.fromtimestamp(max(since, 0), tz=UTC)


class EntityReaders(BulkReaders):
    # --- documents -------------------------------------------------------------------------

    def get_document(self, entity: str, division: int, key: uuid.UUID) -> ExactDocument | None:
        """One document with all its lines, or None when Exact has no such key.

        Two calls: the header by `$filter` on the key (an empty answer costs no error budget,
        unlike GET by key, reference §3.7) and its lines from the lines endpoint (bulk.py: the
        bulk one where the entity has it).
        """
        spec = spec_for(entity)
        params = {
            "$filter": odata.eq(spec.key_field, odata.guid(key)),
            "$select": odata.select(spec.header_select),
            "$top": "1",
        }
        rows, _ = collection(self.get(spec.header_path, division=division, params=params))
        if not rows:
            return None
        lines = self._lines_for(spec, division, [uuid.UUID(str(rows[0][spec.key_field]))])
        key_value = uuid.UUID(str(rows[0][spec.key_field]))
        return parse_document(spec, division, rows[0], lines.get(key_value, []))

    # --- changes -------------------------------------------------------------------------

    def iter_changes(
        self, entity: str, division: int, *, since: int, per_page: int | None = None
    ) -> Iterator[SyncPage]:
        """Documents changed after the cursor `since`, in pages of up to `per_page` (default
        1,000) documents, each document once. The page size does not change the calls to Exact
        (its feed pages stay 1,000 rows): it is the batch the caller writes and moves on after.

        Store `page.max_timestamp` as the new cursor once the page's documents are written.
        A document with lines_complete=False is to be completed (complete_documents) before writing.
        Sales invoices and purchase orders: the combined sync feed (`Timestamp gt since`),
        grouped by document across feed pages (feeds.CombinedFeedGrouper).
        Sales orders: SalesOrderHeaders then SalesOrderLines (lines_complete=False: a header
        change bumps only the header, §5.1; complete_documents reads the lines by key batch
        from bulk/SalesOrder/SalesOrderLines, 1,000 rows a page).
        Purchase invoices: no sync feed; `since` and `max_timestamp` are then Modified
        epoch seconds (UTC), re-read with a 10-minute overlap.
        """
        spec = spec_for(entity)
        per_page = per_page or DOCUMENTS_PER_PAGE
        if entity == Entity.PURCHASE_INVOICE:
            yield from self._iter_modified(spec, division, since)
        elif entity == Entity.SALES_ORDER:
            yield from self._iter_sales_orders(spec, division, since, per_page)
        else:
            yield from self._iter_combined(spec, division, since, per_page)

    def _sync_pages(self, path: str, division: int, since: int, select: tuple[str, ...]):
        # Reference: https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=SyncSalesInvoiceSalesInvoices
        # (Timestamp gt N only, 1,000 rows per page, $select required; reference §5.1-§5.2)
        params = {
            "$filter": odata.gt("Timestamp", odata.int64(since)),
            "$select": odata.select(select),
        }
        return self.iter_pages(path, division=division, params=params)

    def _iter_combined(
        self, spec: EntitySpec, division: int, since: int, per_page: int
    ) -> Iterator[SyncPage]:
        # Rows of one document may come on several pages, among other documents' rows: the
        # grouper hands each document out once, whole (feeds.py says how, and its bound).
        feed = spec.sync_feeds[0]
        grouper = CombinedFeedGrouper(spec, feed, division, since, per_page=per_page)
        for rows in self._sync_pages(feed.path, division, since, feed.select):
            yield from grouper.read(rows)
        yield from grouper.finish()

    def _iter_sales_orders(self, spec: EntitySpec, division: int, since: int, per_page: int):
        """SalesOrderHeaders, then SalesOrderLines, then the headers once more.

        Rowversions are global, so after headers (to H) and lines (to L) a row not handed out
        has a Timestamp above H, or was a header written during the lines scan. The second
        header scan (from H; usually one empty call) catches those: when it finds none, the
        cursor may move to max(H, L); otherwise it stays at H and those lines are read again.
        """
        header_feed, line_feed = spec.sync_feeds
        headers: dict[str, dict] = {}
        stamps: dict[str, int] = {}
        rows_read = 0

        def read_headers(after: int) -> int:
            nonlocal rows_read
            newest = after
            for page in self._sync_pages(header_feed.path, division, after, header_feed.select):
                rows_read += len(page)
                for row in page:
                    key, ts = str(row[spec.key_field]).lower(), int(row["Timestamp"])
                    newest = max(newest, ts)
                    if ts >= stamps.get(key, 0):
                        headers[key], stamps[key] = row, ts
            return newest

        header_max = read_headers(since)
        line_rows: list[dict] = []
        for page in self._sync_pages(line_feed.path, division, since, line_feed.select):
            rows_read += len(page)
            line_rows.extend(page)
        lines_max = max([since] + [int(r["Timestamp"]) for r in line_rows])
        quiet = read_headers(header_max) == header_max
        cursor = max(header_max, lines_max) if quiet else header_max
        # Read from the feed's start with no header written meanwhile, the lines feed held every
        # line of each order it showed: those orders are whole, nothing is read again (a first
        # backfill costs its feed pages, not a second read of every order's lines by key).
        from_start = since <= 1 and quiet
        lines_by_key = group_by_key(line_rows, spec.line_parent_field)
        missing = [uuid.UUID(k) for k in lines_by_key if k not in headers]
        for key, row in self._headers_for(spec, division, missing).items():
            headers[str(key).lower()] = row  # orders deleted meanwhile are not found: skipped
        found = []  # (first, last Timestamp of the order's rows, document)
        for key, header in headers.items():
            rows = lines_by_key.get(key, [])
            lines = [parse_line(spec, r) for r in newest_by_id(rows).values()]
            seen = [stamps[key]] if key in stamps else []
            seen += [int(r["Timestamp"]) for r in rows]
            whole = from_start and bool(rows) and key in stamps
            doc = parse_document(
                spec, division, header, lines, timestamp=max(seen), lines_complete=whole
            )
            found.append((min(seen), max(seen), doc))
        # Oldest first, so that the cursor can move after each batch is written: up to just
        # before the first row of an order not handed out yet. Orders not known whole are read
        # whole by the poller (lines_complete=False), so a restart may re-read one, never halve it.
        found.sort(key=lambda item: item[1])
        chunks = [found[i : i + per_page] for i in range(0, len(found), per_page)]
        chunks = chunks or ([[]] if cursor > since else [])
        for n, chunk in enumerate(chunks):
            later = [first for rest in chunks[n + 1 :] for first, _, _ in rest]
            safe = min([cursor] + [first - 1 for first in later])
            yield SyncPage(
                documents=[doc for _, _, doc in chunk],
                max_timestamp=max(since, safe),
                rows=rows_read if n == 0 else 0,
            )

    def _iter_modified(self, spec: EntitySpec, division: int, since: int) -> Iterator[SyncPage]:
        start = _from_modified_cursor(since) - MODIFIED_OVERLAP
        params = {
            "$filter": odata.ge("Modified", odata.datetime_(start)),
            "$select": odata.select(spec.header_select),
        }
        seen: set[uuid.UUID] = set()
        newest = since
        pages = self.iter_pages(spec.header_path, division=division, params=params)
        for rows, is_last in with_last(pages):
            fresh = []
            for row in rows:
                key = uuid.UUID(str(row[spec.key_field]))
                if key not in seen:
                    seen.add(key)
                    fresh.append(row)
            lines = self._lines_for(
                spec, division, [uuid.UUID(str(r[spec.key_field])) for r in fresh]
            )
            documents = []
            for row in fresh:
                doc = parse_document(
                    spec, division, row, lines[uuid.UUID(str(row[spec.key_field]))]
                )
                if doc.modified:
                    newest = max(newest, int(doc.modified.timestamp()))
                documents.append(doc)
            # Rows of a Modified scan are not ordered by time: the cursor moves at the end only.
            yield SyncPage(
                documents=documents, max_timestamp=newest if is_last else since, rows=len(rows)
            )

    def iter_deleted(
        self, division: int, *, since: int, entity: str | None = None
    ) -> Iterator[DeletedPage]:
        """sync/Deleted after `since` (Exact keeps 2 months), page by page. With `entity`, only
        that entity's records are returned; `max_timestamp` still covers every row read."""
        for rows in self._sync_pages("sync/Deleted", division, since, DELETED_SELECT):
            if not rows:
                continue
            records = [parse_deleted(r) for r in rows]
            newest = max([since] + [r.timestamp for r in records])
            if entity is not None:
                records = [r for r in records if r.entity == entity]
            yield DeletedPage(records=records, rows=len(rows), max_timestamp=newest)

    def count_modified_since(self, entity: str, division: int, since: datetime | date) -> int:
        """How many documents of the entity Exact holds modified on or after `since`: one call.

        The sync feeds give no total, so this asks the regular endpoint with
        `$inlinecount=allpages` and `$top=1` (reference §3.2: `__count`, seen as a string).
        Raises the client's errors; UnexpectedResponse when the answer carries no count.
        """
        spec = spec_for(entity)
        params = {
            "$filter": odata.ge("Modified", odata.datetime_(since)),
            "$select": spec.key_field,
            "$top": "1",
            "$inlinecount": "allpages",
        }
        # Reference: https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=SalesInvoiceSalesInvoices
        payload = self.get(spec.header_path, division=division, params=params)
        try:
            return int(payload["d"]["__count"])
        except (KeyError, TypeError, ValueError) as exc:
            raise UnexpectedResponse("Exact Online's answer carries no count.") from exc

    def sync_timestamp_for(self, entity: str, division: int, start: date) -> int | None:
        """The Timestamp of the first record modified on or after `start` (start at it - 1).

        Uses read/sync/Sync/SyncTimestamp (reference §5.3); None when Exact has nothing since.
        """
        spec = spec_for(entity)
        if not spec.sync_feeds:
            local_midnight = datetime(start.year, start.month, start.day, tzinfo=AMSTERDAM)
            return int(local_midnight.timestamp() + MODIFIED_OVERLAP.total_seconds()) + 1
        found = []
        for feed in spec.sync_feeds:
            params = {"modified": odata.datetime_(start), "endPoint": odata.string(feed.endpoint)}
            # Reference: https://start.exactonline.nl/docs/HlpRestAPIResourcesDetails.aspx?name=ReadSyncSyncSyncTimestamp
            rows, _ = collection(
                self.get("read/sync/Sync/SyncTimestamp", division=division, params=params)
            )
            value = rows[0].get("TimeStampAsBigInt") if rows else None
            if value is not None:
                found.append(int(value))
        # The first record on/after the date: the caller filters `Timestamp gt` (value - 1).
        return min(found) if found else None

    # --- reference data ------------------------------------------------------------------

    # --- webhook subscriptions -------------------------------------------------------------
