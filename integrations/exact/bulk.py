"""Documents read many at a time: key-batched `$filter`s, headers on the regular endpoints, lines
on the bulk endpoint where the entity has one (else the regular one). Mixed into ExactClient
(client.py), which provides iter_pages/fits_url_limit/budget.

A webhook burst, a re-sync of a selection and the completion of sales orders changed in the
sync feed all come through here, so their cost is pages read, not two calls per document.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from integrations.errors import RemoteRejected
from integrations.exact import odata
from integrations.exact.entities import ExactDocument, ExactLine, parse_document, parse_line
from integrations.exact.feeds import keys_in_batches
from integrations.exact.specs import EntitySpec, spec_for

logger = logging.getLogger(__name__)

# Regular endpoints answer 60 rows a page (reference §3.2): a batch of at most 60 keys reads its
# headers in one call, where a batch as long as the URL allows (about 80 GUIDs) would take two.
# Bulk endpoints answer 1,000 rows a page (§5.4): there the URL is the only cap on a batch.
REGULAR_PAGE = 60


class BulkReaders:
    def get_documents(
        self, entity: str, division: int, keys: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, ExactDocument]:
        """The documents of these keys with all their lines; a key Exact does not have (deleted)
        is absent from the answer. Headers by key batch, then the lines of those found."""
        spec = spec_for(entity)
        headers = self._headers_for(spec, division, list(dict.fromkeys(keys)))
        lines = self._lines_for(spec, division, list(headers))
        return {
            key: parse_document(spec, division, row, lines.get(key, []))
            for key, row in headers.items()
        }

    def complete_documents(
        self, entity: str, division: int, documents: list[ExactDocument]
    ) -> list[ExactDocument]:
        """The documents with every line (lines_complete), in order; those gone from Exact are
        left out. Documents already complete cost nothing.

        Sales orders come from the header feed with a real header and only the changed lines:
        their lines are read by key batch and the header kept. Other incomplete documents (a
        combined-feed document without its header row) are read whole.
        """
        spec = spec_for(entity)
        todo = [d.key for d in documents if not d.lines_complete]
        if not todo:
            return documents
        whole: dict[uuid.UUID, ExactDocument] = {}
        if spec.sync_feeds and spec.sync_feeds[0].kind == "headers" and not spec.credit_types:
            lines = self._lines_for(spec, division, todo)
            by_key = {d.key: d for d in documents}
            for key in todo:
                if lines.get(key):
                    whole[key] = dataclasses.replace(
                        by_key[key], lines=_ordered(lines[key]), lines_complete=True
                    )
            # No line at all: the order may have been deleted since the feed was read; read
            # its header again (rare), so that a deleted order is never written.
            bare = [key for key in todo if key not in whole]
            if bare:
                whole.update(self.get_documents(entity, division, bare))
        else:
            whole = self.get_documents(entity, division, todo)
        complete = []
        for doc in documents:
            if doc.lines_complete or doc.key in whole:
                complete.append(doc if doc.lines_complete else whole[doc.key])
        return complete

    # --- key batches -----------------------------------------------------------------------

    def _lines_for(
        self, spec: EntitySpec, division: int, keys: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[ExactLine]]:
        found: dict[uuid.UUID, list[ExactLine]] = {k: [] for k in keys}
        todo = keys
        bulk = spec.bulk_lines_path
        if bulk and keys and not self._refused(division, bulk):
            todo = self._read_lines(spec, bulk, division, keys, found)
        if todo:
            self._read_lines(spec, spec.lines_path, division, todo, found)
        return found

    def _read_lines(
        self,
        spec: EntitySpec,
        path: str,
        division: int,
        keys: list[uuid.UUID],
        found: dict[uuid.UUID, list[ExactLine]],
    ) -> list[uuid.UUID]:
        """Lines of `keys` from `path` into `found`. Returns the keys left unread when the bulk
        endpoint refuses the filter on the parent key (then remembered), else []."""
        bulk = path == spec.bulk_lines_path
        field, done = spec.line_parent_field, 0
        batches = self._key_batches(
            path, division, field, keys, spec.line_select, max_size=None if bulk else REGULAR_PAGE
        )
        for batch, params in batches:
            rows: list[dict] = []  # a batch counts once all its pages are read
            try:
                for page in self.iter_pages(path, division=division, params=params):
                    rows.extend(page)
            except RemoteRejected as exc:
                # Unconfirmed whether bulk endpoints accept a filter on the parent key: they
                # "may also refuse some filters" (reference §3.4). Such a 400 counts toward
                # Exact's 10 errors per endpoint per hour (§4.1): read these lines the regular
                # way and send that filter to the bulk endpoint no more for a while.
                if not (bulk and _refuses_filter(exc)):
                    raise
                logger.warning(
                    "exact.bulk.filter_refused", extra={"endpoint": path, "division": division}
                )
                self._remember_refusal(division, path)
                return keys[done:]
            for row in rows:
                parent = uuid.UUID(str(row[field]))
                found.setdefault(parent, []).append(parse_line(spec, row))
            done += len(batch)
        return []

    def _refused(self, division: int, endpoint: str) -> bool:
        if (division, endpoint) in self.refused_filters:
            return True
        return self.budget is not None and self.budget.refuses(division, endpoint)

    def _remember_refusal(self, division: int, endpoint: str) -> None:
        # On the shared budget row for every process; on the client too when it has no budget.
        self.refused_filters.add((division, endpoint))
        if self.budget is not None:
            self.budget.record_refusal(division, endpoint)

    def _headers_for(
        self, spec: EntitySpec, division: int, keys: list[uuid.UUID]
    ) -> dict[uuid.UUID, dict[str, Any]]:
        found: dict[uuid.UUID, dict[str, Any]] = {}
        batches = self._key_batches(
            spec.header_path, division, spec.key_field, keys, spec.header_select
        )
        for _, params in batches:
            for page in self.iter_pages(spec.header_path, division=division, params=params):
                for row in page:
                    found[uuid.UUID(str(row[spec.key_field]))] = row
        return found

    def _key_batches(
        self,
        path: str,
        division: int,
        field: str,
        keys: list[uuid.UUID],
        select: tuple[str, ...],
        *,
        max_size: int | None = REGULAR_PAGE,
    ) -> Iterator[tuple[list[uuid.UUID], dict[str, str]]]:
        """(batch, query parameters filtering `field` on it) for consecutive batches of `keys`,
        each as large as Exact's URL limit allows once the whole URL is encoded (reference
        §3.9), and at most `max_size` keys (a regular page; None on bulk endpoints)."""

        def params(batch: list[uuid.UUID]) -> dict[str, str]:
            return {"$filter": odata.any_guid(field, batch), "$select": odata.select(select)}

        fits = lambda batch: self.fits_url_limit(path, division, params(batch))  # noqa: E731
        for batch in keys_in_batches(keys, fits=fits, max_size=max_size):
            yield batch, params(batch)

    def line_batches(self, entity: str, division: int, keys: list[uuid.UUID]) -> int:
        """How many key batches reading these documents' lines takes (on the bulk endpoint
        where there is one): the benchmark's floor."""
        spec = spec_for(entity)
        path = spec.bulk_lines_path or spec.lines_path
        size = None if spec.bulk_lines_path else REGULAR_PAGE
        field, select = spec.line_parent_field, spec.line_select
        return sum(1 for _ in self._key_batches(path, division, field, keys, select, max_size=size))


def _refuses_filter(exc: RemoteRejected) -> bool:
    """Exact's 400 for a filter a bulk endpoint does not take (reference §3.4): "Filtering on
    these fields is not supported: …" or "This $filter parameter is not supported for this
    resource"."""
    return exc.detail.get("status") == 400 and "not supported" in exc.message


def _ordered(lines: list[ExactLine]) -> tuple[ExactLine, ...]:
    return tuple(sorted(lines, key=lambda ln: ln.line_number))
