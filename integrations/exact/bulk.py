"""Documents read many at a time: key-batched `$filter`s on the regular endpoints (headers, then
lines). Mixed into ExactClient (client.py), which provides iter_pages/fits_url_limit.

A webhook burst, a re-sync of a selection and the completion of sales orders changed in the
sync feed all come through here, so their cost is pages read, not two calls per document.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from integrations.exact import odata
from integrations.exact.entities import ExactDocument, ExactLine, parse_document, parse_line
from integrations.exact.feeds import keys_in_batches
from integrations.exact.specs import EntitySpec, spec_for

# Regular endpoints answer 60 rows a page (reference §3.2): a batch of at most 60 keys reads its
# headers in one call, where a batch as long as the URL allows (about 80 GUIDs) would take two.
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
        batches = self._key_batches(
            spec.lines_path, division, spec.line_parent_field, keys, spec.line_select
        )
        for params in batches:
            for page in self.iter_pages(spec.lines_path, division=division, params=params):
                for row in page:
                    parent = uuid.UUID(str(row[spec.line_parent_field]))
                    found.setdefault(parent, []).append(parse_line(spec, row))
        return found

    def _headers_for(
        self, spec: EntitySpec, division: int, keys: list[uuid.UUID]
    ) -> dict[uuid.UUID, dict[str, Any]]:
        found: dict[uuid.UUID, dict[str, Any]] = {}
        batches = self._key_batches(
            spec.header_path, division, spec.key_field, keys, spec.header_select
        )
        for params in batches:
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
    ) -> Iterator[dict[str, str]]:
        """Query parameters filtering `field` on consecutive batches of `keys`, each batch as
        large as Exact's URL limit allows once the whole URL is encoded (reference §3.9), and
        at most a page of keys."""

        def params(batch: list[uuid.UUID]) -> dict[str, str]:
            return {"$filter": odata.any_guid(field, batch), "$select": odata.select(select)}

        fits = lambda batch: self.fits_url_limit(path, division, params(batch))  # noqa: E731
        for batch in keys_in_batches(keys, fits=fits, max_size=REGULAR_PAGE):
            yield params(batch)


def _ordered(lines: list[ExactLine]) -> tuple[ExactLine, ...]:
    return tuple(sorted(lines, key=lambda ln: ln.line_number))
