"""Answering one OData GET: query options, ordering, paging with $skiptoken and __next.

Regular endpoints: 60 rows a page ordered by key (or $orderby, key last), $skiptoken holding the
last row's order values as literals, as WCF writes them (`$skiptoken=guid'…'`). Bulk endpoints
page the same way with 1,000 rows and `$select` mandatory (§5.4), and refuse a filter on the
fields a test named (ExactSandbox.refuse_bulk_filter, §3.4). Sync endpoints:
1,000 rows a page in Timestamp order, `$select` mandatory, only `Timestamp` filterable (§3.3,
§5.1); their $skiptoken form is unconfirmed, the sandbox writes the last Timestamp (`123L`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from integrations.sandbox.exact_odata import (
    Filter,
    ODataError,
    comparable,
    literal,
    parse_filter,
    parse_orderby,
    parse_select,
    parse_skiptoken,
    parse_top,
)
from integrations.sandbox.exact_schema import GUID, Endpoint

KNOWN_OPTIONS = {"$select", "$filter", "$top", "$orderby", "$skiptoken", "$inlinecount"}
SELECT_REQUIRED = "Please add a $select or a $top=1 statement to the query string."


@dataclass
class Page:
    rows: list[dict]
    select: list[str] | None
    next_query: list[tuple[str, str]] | None  # the query of __next, or None on the last page
    count: int | None = None  # $inlinecount=allpages


def check_options(query: list[tuple[str, str]]) -> dict[str, str]:
    options = {}
    for name, value in query:
        if name.startswith("$") and name not in KNOWN_OPTIONS:
            raise ODataError(400, f"The query parameter '{name}' is not supported.")
        options.setdefault(name, value)
    return options


def _filter(options: dict, endpoint: Endpoint) -> Filter | None:
    text = options.get("$filter")
    if text is None:
        return None
    return parse_filter(text, endpoint.fields, endpoint.type_name)


def regular_page(
    endpoint: Endpoint,
    query: list[tuple[str, str]],
    all_rows: Callable[[], list[dict]],
    lookup: Callable[[str, str], list[dict] | None],
    unfilterable: frozenset[str] = frozenset(),
) -> Page:
    options = check_options(query)
    if endpoint.kind == "bulk" and options.get("$select", "").strip() in ("", "*"):
        raise ODataError(400, SELECT_REQUIRED)
    select = parse_select(options.get("$select"), endpoint.fields, endpoint.type_name)
    flt = _filter(options, endpoint)
    # Bulk endpoints "may also refuse some filters" (§3.4): those a test named (refuse_bulk_filter).
    if flt is not None and flt.properties & unfilterable:
        names = ", ".join(sorted(flt.properties & unfilterable))
        raise ODataError(400, f"Filtering on these fields is not supported: {names}")
    # Unconfirmed (§3.4): the fields allowed in such a filter differ per endpoint (the REST
    # reference's "Filter" column); the sandbox accepts a $filter on any property.
    if endpoint.mandatory_filter and flt is None:
        raise ODataError(
            400,
            "This endpoint has mandatory filtering applied. A GET request for "
            "this endpoint must have a $filter parameter with one of the "
            "following fields in the url: ID, Code, Name, Modified",
        )
    order = parse_orderby(options.get("$orderby"), endpoint.fields, endpoint.type_name)
    top = parse_top(options.get("$top"))
    rows, key_sorted = _candidates(options.get("$filter"), flt, all_rows, lookup)
    if flt is not None:
        rows = [r for r in rows if flt.predicate(r)]
    count = len(rows) if options.get("$inlinecount") == "allpages" else None
    keys = [*order, (endpoint.key, False)]
    if order or not key_sorted:  # all_rows() comes sorted by key already
        for name, desc in reversed(keys):  # stable sorts, last key first; key breaks ties
            rows = sorted(rows, key=lambda r, n=name: _sortable(r.get(n)), reverse=desc)
    if "$skiptoken" in options:
        rows = _after_token(rows, options["$skiptoken"], keys, endpoint)
    limit = endpoint.page_size if top is None else min(top, endpoint.page_size)
    page, more = rows[:limit], len(rows) > limit
    if top is not None and top <= limit:
        more = False
    next_query = None
    if more:
        token = ",".join(literal(page[-1].get(n), endpoint.fields[n]) for n, _ in keys)
        replace = {"$skiptoken": token}
        if top is not None:
            replace["$top"] = str(top - len(page))
        next_query = _with(query, replace)
    return Page(page, select, next_query, count)


def _candidates(text, flt, all_rows, lookup) -> tuple[list[dict], bool]:
    """A fast path for `Key eq guid'…'` filters, so by-key lookups don't scan 50k rows.

    Returns the rows and whether they are already sorted by key (all_rows() is)."""
    if flt is not None and " or " not in text and "not " not in text:
        m = re.search(r"\b(\w+) eq guid'([0-9a-fA-F-]{36})'", text)
        if m:
            found = lookup(m.group(1), m.group(2).lower())
            if found is not None:
                return found, False
    return all_rows(), True


def sort_by_key(rows: list[dict], key: str) -> list[dict]:
    return sorted(rows, key=lambda r: _sortable(r.get(key)))


def _sortable(value):
    value = comparable(value)
    return (value is not None, value if value is not None else 0)


def _after_token(rows: list[dict], token: str, keys, endpoint: Endpoint) -> list[dict]:
    values = parse_skiptoken(token)
    if len(values) != len(keys):
        raise ODataError(400, "Invalid $skiptoken.")
    key_value = values[-1]
    for i, row in enumerate(rows):
        if str(row.get(endpoint.key)).lower() == str(key_value).lower():
            return rows[i + 1 :]
    if len(keys) == 1:  # the row was deleted meanwhile: continue after its key
        kind_guid = endpoint.fields[endpoint.key] == GUID
        norm = str(key_value).lower() if kind_guid else key_value
        return [r for r in rows if _sortable(r.get(endpoint.key)) > _sortable(norm)]
    raise ODataError(400, "Invalid $skiptoken.")


def sync_page(
    endpoint: Endpoint,
    query: list[tuple[str, str]],
    feed: Callable[[int, int, Callable[[dict], bool]], tuple[list[dict], bool]],
) -> Page:
    options = check_options(query)
    raw_select = options.get("$select", "").strip()
    if raw_select in ("", "*"):
        raise ODataError(400, SELECT_REQUIRED)
    select = parse_select(raw_select, endpoint.fields, endpoint.type_name)
    flt = _filter(options, endpoint)
    if flt is not None and flt.properties - {"Timestamp"}:
        names = ", ".join(sorted(flt.properties - {"Timestamp"}))
        raise ODataError(400, f"Filtering on these fields is not supported: {names}")
    order = parse_orderby(options.get("$orderby"), endpoint.fields, endpoint.type_name)
    if order and order != [("Timestamp", False)]:
        raise ODataError(400, "This $orderby parameter is not supported for this resource.")
    top = parse_top(options.get("$top"))
    after = flt.lower_timestamp if flt is not None and flt.lower_timestamp else 0
    if "$skiptoken" in options:
        values = parse_skiptoken(options["$skiptoken"])
        if len(values) != 1 or not isinstance(values[0], int):
            raise ODataError(400, "Invalid $skiptoken.")
        after = max(after, values[0])
    limit = endpoint.page_size if top is None else min(top, endpoint.page_size)
    keep = flt.predicate if flt is not None else (lambda row: True)
    rows, more = feed(after, limit, keep)
    if top is not None and top <= limit:
        more = False
    next_query = None
    if more:
        replace = {"$skiptoken": f"{rows[-1]['Timestamp']}L"}
        if top is not None:
            replace["$top"] = str(top - len(rows))
        next_query = _with(query, replace)
    return Page(rows, select, next_query)


def _with(query: list[tuple[str, str]], replace: dict[str, str]) -> list[tuple[str, str]]:
    out = [(k, replace.pop(k) if k in replace else v) for k, v in query]
    return out + list(replace.items())


def encode_query(query: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='$')}={quote(v, safe=chr(39) + '$,()')}" for k, v in query)


def single_key(text: str, endpoint: Endpoint) -> object:
    """The key inside `Entity(guid'…')` → its comparable value."""
    values = parse_skiptoken(text)
    if len(values) != 1:
        raise ODataError(400, "Bad Request - Error in query syntax.")
    return str(values[0]).lower() if endpoint.fields[endpoint.key] == GUID else values[0]
