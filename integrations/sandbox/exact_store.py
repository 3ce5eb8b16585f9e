"""The sandbox's data: divisions, reference tables, documents with lines, the sync feeds.

One global rowversion counter stamps every row (reference §5.1: unique, rising on every insert
and update, unrelated to clock time). Each sync feed is an append-only list of
(Timestamp, reference); an entry whose row has since been restamped or deleted is skipped, so a
page read is a bisect plus a short scan. Not thread-safe by itself: ExactSandbox holds the lock.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime

from integrations.sandbox import exact_docs
from integrations.sandbox.exact_query import sort_by_key
from integrations.sandbox.exact_schema import DELETED_TYPES

SANDBOX_USER_ID = "5f0d3b8e-7a4c-4c1e-9a61-2f7e0c9d1a01"
SANDBOX_CUSTOMER_ID = "0c3e9a54-2b1f-4d7a-8e6b-91a0d4c5e7f2"


class Store:
    def __init__(self, now: Callable[[], datetime], new_id: Callable[[], str] | None = None):
        self.now = now
        self.new_id = new_id or (lambda: str(uuid.uuid4()))
        self.rowversion = 90_000_000  # Exact's rowversions are large numbers; ours start high
        self.version = 0  # bumped on every change; invalidates the sorted-row cache
        self.divisions: dict[int, dict] = {}
        self.tables: dict[tuple[int, str], dict[str, dict]] = {}  # gl, cc, acc
        self.docs: dict[tuple[int, str], dict[str, dict]] = {}  # si, po, so, pi
        self.deleted: dict[int, list[dict]] = {}
        self.feeds: dict[tuple[int, str], tuple[list[int], list[tuple]]] = {}
        self.numbers: dict[tuple[int, str], int] = {}
        self.events: list[tuple[int, str, str, str]] = []  # (division, source, action, key)
        self._cache: dict[tuple[int, str], tuple[int, list[dict]]] = {}

    # -- stamping -----------------------------------------------------------------------------
    def stamp(self, division: int, feed: str, ref: tuple) -> int:
        self.rowversion += 1
        stamps, refs = self.feeds.setdefault((division, feed), ([], []))
        stamps.append(self.rowversion)
        refs.append(ref)
        return self.rowversion

    def touched(self) -> None:
        self.version += 1

    def division(self, code: int) -> dict:
        if code not in self.divisions:
            raise KeyError(f"Unknown sandbox division {code}.")
        return self.divisions[code]

    # -- divisions and reference tables ---------------------------------------------------------
    def add_division(self, code: int, name: str, currency: str) -> None:
        now = self.now()
        self.divisions[code] = {
            "Code": code,
            "Description": name,
            "Hid": len(self.divisions) + 1,
            "Currency": currency,
            "Country": "NL",
            "Status": 1,
            "BlockingStatus": 0,
            "Current": not self.divisions,
            "Customer": SANDBOX_CUSTOMER_ID,
            "CustomerName": "Sandbox Holding BV",
            "DivisionMoveDate": None,
            "DivisionHRLinkUnlinkDate": None,
            "Created": now,
            "Modified": now,
        }
        self.touched()

    def add_row(self, division: int, table: str, row: dict) -> dict:
        self.division(division)
        now = self.now()
        row = {"ID": self.new_id(), **row, "Created": now, "Modified": now, "Division": division}
        self.tables.setdefault((division, table), {})[row["ID"]] = row
        if table in ("gl", "acc"):
            row["Timestamp"] = self.stamp(division, table, (row["ID"],))
        self.events.append((division, table, "Create", row["ID"]))
        self.touched()
        return row

    def update_row(self, division: int, table: str, row_id: str, changes: dict) -> dict:
        row = self.tables.get((division, table), {}).get(row_id)
        if row is None:
            raise KeyError(f"No {table} row {row_id} in division {division}.")
        row.update(changes, Modified=self.now())
        if table in ("gl", "acc"):
            row["Timestamp"] = self.stamp(division, table, (row_id,))
        self.events.append((division, table, "Update", row_id))
        self.touched()
        return row

    def delete_row(self, division: int, table: str, row_id: str) -> None:
        if self.tables.get((division, table), {}).pop(row_id, None) is None:
            raise KeyError(f"No {table} row {row_id} in division {division}.")
        self._log_deleted(division, table, row_id)
        self.events.append((division, table, "Delete", row_id))
        self.touched()

    def find(self, division: int, table: str, field: str, value: object) -> dict | None:
        for row in self.tables.get((division, table), {}).values():
            if row.get(field) == value:
                return row
        return None

    # -- documents ----------------------------------------------------------------------------
    def add_document(self, division: int, kind: str, header: dict, lines: list[dict]) -> dict:
        div = self.division(division)
        spec = exact_docs.KINDS[kind]
        number_key = (division, kind)
        self.numbers[number_key] = self.numbers.get(number_key, spec.first_number - 1) + 1
        now = self.now()
        doc_id = self.new_id()
        head = {
            spec.key: doc_id,
            spec.number: self.numbers[number_key],
            "Created": now,
            "Modified": now,
            "Division": division,
            **header,
        }
        doc = {"header": head, "lines": [], "sync_id": self.new_id()}
        self._set_lines(division, kind, doc, lines, div["Currency"])
        self.docs.setdefault((division, kind), {})[doc_id] = doc
        self._restamp(division, kind, doc, lines_too=True)
        self.events.append((division, kind, "Create", doc_id))
        self.touched()
        return doc

    def update_document(self, division: int, kind: str, doc_id: str, changes: dict) -> dict:
        doc = self.get_document(division, kind, doc_id)
        lines = changes.pop("lines", None)
        doc["header"].update(changes, Modified=self.now())
        if lines is not None:
            self._set_lines(division, kind, doc, lines, self.division(division)["Currency"])
        else:
            exact_docs.totals(kind, doc, self.division(division)["Currency"], self)
        # §5.1: on the invoice/PO feeds any change restamps header and lines; a sales-order
        # header change bumps only the header.
        self._restamp(division, kind, doc, lines_too=lines is not None or kind != "so")
        self.events.append((division, kind, "Update", doc_id))
        self.touched()
        return doc

    def delete_document(self, division: int, kind: str, doc_id: str) -> None:
        doc = self.get_document(division, kind, doc_id)
        del self.docs[(division, kind)][doc_id]
        if kind == "so":
            self._log_deleted(division, "so:h", doc_id)
            for line in doc["lines"]:
                self._log_deleted(division, "so:l", line["ID"])
        else:
            self._log_deleted(division, kind, doc_id)
        self.events.append((division, kind, "Delete", doc_id))
        self.touched()

    def get_document(self, division: int, kind: str, doc_id: str) -> dict:
        doc = self.docs.get((division, kind), {}).get(str(doc_id).lower())
        if doc is None:
            raise KeyError(f"No {kind} document {doc_id} in division {division}.")
        return doc

    def _set_lines(self, division, kind, doc, lines, division_currency) -> None:
        doc["lines"] = [
            exact_docs.build_line(kind, doc, i, dict(line), self)
            for i, line in enumerate(lines, start=1)
        ]
        exact_docs.totals(kind, doc, division_currency, self)

    def _restamp(self, division: int, kind: str, doc: dict, *, lines_too: bool) -> None:
        doc_id = doc["header"][exact_docs.KINDS[kind].key]
        feed = {"si": "si:s", "po": "po:s", "so": "so:h"}.get(kind)
        if feed is None:
            return  # purchase invoices have no sync feed (§5.5)
        doc["header"]["Timestamp"] = self.stamp(division, feed, (doc_id, None))
        if lines_too:
            line_feed = "so:l" if kind == "so" else feed
            for line in doc["lines"]:
                line["Timestamp"] = self.stamp(division, line_feed, (doc_id, line["ID"]))

    def save_together(self, division: int, kind: str, doc_ids: list[str]) -> None:
        """The documents saved at the same moment (two users, an import): every row of each gets
        a new Timestamp, and their rows interleave on the sync feed, one of each in turn, as the
        rows of concurrent transactions do. The reference promises no grouping (§5.1)."""
        docs = [self.get_document(division, kind, doc_id) for doc_id in doc_ids]
        key = exact_docs.KINDS[kind].key
        queues = [
            [(d["header"][key], None)] + [(d["header"][key], line["ID"]) for line in d["lines"]]
            for d in docs
        ]
        header_feed = {"si": "si:s", "po": "po:s", "so": "so:h"}[kind]
        line_feed = "so:l" if kind == "so" else header_feed
        for turn in range(max(len(q) for q in queues)):
            for ref in (q[turn] for q in queues if turn < len(q)):
                feed = header_feed if ref[1] is None else line_feed
                target = self._target(division, feed, ref)
                target["Timestamp"] = self.stamp(division, feed, ref)
        for doc in docs:
            doc["header"]["Modified"] = self.now()
            self.events.append((division, kind, "Update", doc["header"][key]))
        self.touched()

    def _log_deleted(self, division: int, source: str, key: str) -> None:
        entity_type = DELETED_TYPES.get(source)
        if entity_type is None:
            return  # no deleted feed for purchase invoices and cost centers (§5.2)
        log = self.deleted.setdefault(division, [])
        row = {
            "ID": self.new_id(),
            "EntityKey": key,
            "EntityType": entity_type,
            "DeletedBy": SANDBOX_USER_ID,
            "DeletedDate": self.now(),
            "Division": division,
        }
        row["Timestamp"] = self.stamp(division, "deleted", (len(log),))
        log.append(row)

    def move_division(self, division: int) -> None:
        """A move to another database: every Timestamp of the division is regenerated (§5.1),
        lower than before, so a stale cursor silently skips rows; DivisionMoveDate is set."""
        stamp = 1000
        for (div, feed), (stamps, refs) in list(self.feeds.items()):
            if div != division:
                continue
            live = [
                (s, r)
                for s, r in zip(stamps, refs, strict=True)
                if self._resolve(div, feed, s, r) is not None
            ]
            new_stamps = []
            for _, ref in live:
                stamp += 1
                self._target(div, feed, ref)["Timestamp"] = stamp
                new_stamps.append(stamp)
            self.feeds[(div, feed)] = (new_stamps, [r for _, r in live])
        now = self.now()
        self.division(division).update(DivisionMoveDate=now, Modified=now)
        self.touched()

    def _target(self, division: int, feed: str, ref: tuple) -> dict:
        """The stored dict that holds the Timestamp of a feed entry."""
        if feed == "deleted":
            return self.deleted[division][ref[0]]
        if feed in ("gl", "acc"):
            return self.tables[(division, feed)][ref[0]]
        doc = self.docs[(division, feed.split(":")[0])][ref[0]]
        if ref[1] is None:
            return doc["header"]
        return next(x for x in doc["lines"] if x["ID"] == ref[1])

    # -- reading ------------------------------------------------------------------------------
    def rows(self, division: int, source: str) -> list[dict]:
        """Rows of a regular endpoint, sorted by key (cached until the next change)."""
        cached = self._cache.get((division, source))
        if cached and cached[0] == self.version:
            return cached[1]
        rows = list(self._iter_rows(division, source))
        rows = sort_by_key(rows, exact_docs.source_key(source))
        self._cache[(division, source)] = (self.version, rows)
        return rows

    def _iter_rows(self, division: int, source: str) -> Iterator[dict]:
        if source == "divisions":
            yield from self.divisions.values()
        elif source in ("gl", "cc", "acc"):
            yield from self.tables.get((division, source), {}).values()
        else:
            kind, part = source.split(":")
            for doc in self.docs.get((division, kind), {}).values():
                if part == "h":
                    yield doc["header"]
                else:
                    yield from doc["lines"]

    def lookup(self, division: int, source: str, field: str, value: str) -> list[dict] | None:
        """Rows whose key or parent key equals value, or None when there is no index for it."""
        if source in ("gl", "cc", "acc") and field == "ID":
            row = self.tables.get((division, source), {}).get(value)
            return [row] if row else []
        if ":" not in source or source.endswith(":s"):
            return None
        kind, part = source.split(":")
        wanted = exact_docs.KINDS[kind].key if part == "h" else exact_docs.LINE_PARENT[kind]
        if field != wanted:
            return None
        doc = self.docs.get((division, kind), {}).get(value)
        if doc is None:
            return []
        return [doc["header"]] if part == "h" else list(doc["lines"])

    def feed_page(self, division: int, source: str, after: int, limit: int, keep):
        """Up to `limit` current rows with Timestamp > after, and whether more follow."""
        stamps, refs = self.feeds.get((division, source), ([], []))
        out: list[dict] = []
        for i in range(bisect.bisect_right(stamps, after), len(stamps)):
            row = self._resolve(division, source, stamps[i], refs[i])
            if row is None or not keep(row):
                continue
            if len(out) == limit:
                return out, True
            out.append(row)
        return out, False

    def _resolve(self, division: int, source: str, stamp: int, ref: tuple) -> dict | None:
        if source == "deleted":
            return self.deleted[division][ref[0]]
        if source in ("gl", "acc"):
            row = self.tables.get((division, source), {}).get(ref[0])
            return row if row is not None and row["Timestamp"] == stamp else None
        kind = source.split(":")[0]
        doc = self.docs.get((division, kind), {}).get(ref[0])
        if doc is None:
            return None
        return exact_docs.sync_row(source, doc, ref[1], stamp, self, division)

    def first_stamp_since(self, division: int, source: str, moment: datetime) -> int | None:
        stamps, refs = self.feeds.get((division, source), ([], []))
        for stamp, ref in zip(stamps, refs, strict=True):
            row = self._resolve(division, source, stamp, ref)
            if row is not None and row.get("Modified") and _local(row["Modified"]) >= moment:
                return stamp
        return None


def _local(value: date | datetime) -> datetime:
    from integrations.sandbox.exact_odata import comparable

    return comparable(value)
