"""OData literals built from hostile values never break out of their filter.

Each clause built by integrations.exact.odata is parsed back by the Exact sandbox's strict
$filter parser (WCF Data Services rules), and, over HTTP, must select exactly the row whose
value it names.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.exact import connections as exact_connections
from integrations.exact import odata
from integrations.sandbox.exact_odata import ODataError, _tokenize, parse_filter
from integrations.sandbox.exact_schema import GL_ACCOUNT
from tests.reliability.counters import COUNTS

INJECTIONS = [
    "' or 1 eq 1 or Code eq '",
    "x') or (Code ne 'x",
    "''",
    "'",
    "O'Neil & Zonen",
    "a'' or ''b",
    "\\' or Code ne \\'",
    "%27 or 1 eq 1",
    "x' and substringof('', Code) or 'y",
    "guid'00000000-0000-0000-0000-000000000000'",
    "datetime'2026-01-01'",
    "12L) or (Timestamp gt 0L",
    "Code eq 'x'",
    "\u2019 or Code ne \u2019",  # typographic quotes are just text
    "é Ünïcödé 中文 😀 \u202e RTL",
    "tab\tnew\nline\rreturn",
    "&$filter=Code ne ''&$top=1",
    "#fragment?query=1",
    "x" * 2000,
]
# Text OData can carry: no NUL (refused by the builder) and no lone surrogates.
hostile_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60
) | st.sampled_from(INJECTIONS)


def _filter(value: str):
    return parse_filter(odata.eq("Description", odata.string(value)), GL_ACCOUNT, "GLAccount")


def _row(description: str) -> dict:
    return {"Code": "8000", "Description": description}


@settings(max_examples=400, deadline=None)
@given(value=hostile_text, other=hostile_text)
def test_a_hostile_string_literal_is_one_token_that_matches_only_its_value(value, other):
    COUNTS["bad inputs tried: hostile OData values"] += 1
    clause = odata.eq("Description", odata.string(value))
    tokens = _tokenize(clause)
    assert [t.kind for t in tokens] == ["name", "name", "lit"]  # Description eq '<value>'
    assert tokens[2].value == ("Edm.String", value)
    predicate = _filter(value).predicate
    assert predicate(_row(value))
    assert predicate(_row(other)) == (other == value)


@settings(max_examples=200, deadline=None)
@given(a=hostile_text, b=hostile_text)
def test_hostile_values_combined_with_and_or_keep_their_meaning(a, b):
    COUNTS["bad inputs tried: hostile OData values"] += 1
    both = odata.and_(odata.eq("Code", odata.string(a)), odata.eq("Description", odata.string(b)))
    either = odata.or_(odata.eq("Code", odata.string(a)), odata.eq("Description", odata.string(b)))
    p_both = parse_filter(both, GL_ACCOUNT, "GLAccount").predicate
    p_either = parse_filter(either, GL_ACCOUNT, "GLAccount").predicate
    assert p_both({"Code": a, "Description": b})
    assert p_either({"Code": a, "Description": "\x01unrelated"})
    assert not p_either({"Code": a + "\x01", "Description": b + "\x01"})


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_attempts_in_a_guid_are_refused_before_any_request(value):
    COUNTS["bad inputs tried: hostile OData values"] += 1
    with pytest.raises(ValueError):
        odata.guid(value)


@settings(max_examples=200, deadline=None)
@given(value=hostile_text | st.uuids().map(str))
def test_a_guid_literal_is_either_refused_or_a_real_guid(value):
    COUNTS["bad inputs tried: hostile OData values"] += 1
    try:
        literal = odata.guid(value)
    except ValueError:
        return
    key = uuid.UUID(value)
    predicate = parse_filter(odata.eq("ID", literal), GL_ACCOUNT, "GLAccount").predicate
    assert predicate({"ID": str(key)}) and not predicate({"ID": str(uuid.uuid4())})


@pytest.mark.parametrize("value", ["1 or 1 eq 1", 1.5, True, None, "12L", 2**70 + 0.5])
def test_numbers_that_are_not_integers_are_refused(value):
    COUNTS["bad inputs tried: hostile OData values"] += 1
    with pytest.raises(ValueError):
        odata.int64(value)


def test_nul_is_refused_rather_than_sent():
    COUNTS["bad inputs tried: hostile OData values"] += 1
    with pytest.raises(ValueError):
        odata.string("abc\x00' or 1 eq 1")


def test_a_raw_string_with_a_stray_quote_is_what_the_parser_refuses():
    """The control: without the builder, the same value does break the filter."""
    with pytest.raises(ODataError):
        parse_filter("Description eq 'O'Neil'", GL_ACCOUNT, "GLAccount")


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=hostile_text.filter(lambda v: v.strip() != ""))
def test_over_http_a_hostile_description_filter_returns_exactly_its_row(gl_stack, value):
    COUNTS["bad inputs tried: hostile OData values over HTTP"] += 1
    stack, client, seen = gl_stack
    if value not in seen:
        seen.add(value)
        stack.exact.add_gl_account(101, f"9{len(seen):05d}", value)
    rows = client.get(
        "financial/GLAccounts",
        division=101,
        params={
            "$filter": odata.eq("Description", odata.string(value)),
            "$select": "ID,Code,Description",
        },
    )["d"]["results"]
    assert [r["Description"] for r in rows] == [value]


@pytest.fixture
def gl_stack(stack):
    stack.connect(divisions=((101, "Amsterdam"),))
    stack.exact.add_gl_account(101, "8000", "O'Neil or 1 eq 1")  # a decoy with a quote
    return stack, exact_connections.for_connection(stack.exact_conn), set()
