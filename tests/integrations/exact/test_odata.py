import uuid
from datetime import UTC, datetime

import pytest

from integrations.exact import odata

KEY = uuid.UUID("3f2c0e8a-1b2c-4d5e-8f90-aabbccddeeff")


def test_guid_literal_is_typed():
    assert odata.guid(KEY) == "guid'3f2c0e8a-1b2c-4d5e-8f90-aabbccddeeff'"
    assert odata.guid(str(KEY).upper()) == "guid'3f2c0e8a-1b2c-4d5e-8f90-aabbccddeeff'"


@pytest.mark.parametrize(
    "hostile",
    ["3f2c0e8a' or 1 eq 1 or ID eq guid'", "x' or '1'='1", "", "guid'abc'"],
)
def test_guid_containing_quotes_or_operators_is_refused(hostile):
    with pytest.raises(ValueError):
        odata.guid(hostile)


def test_string_literal_doubles_quotes_so_the_filter_cannot_be_broken():
    literal = odata.string("O'Neil' or Code ne '")
    assert literal == "'O''Neil'' or Code ne '''"
    clause = odata.eq("Code", literal)
    # One literal: after removing doubled quotes, only the two outer quotes remain.
    assert clause.replace("''", "").count("'") == 2


def test_string_literal_refuses_nul():
    with pytest.raises(ValueError):
        odata.string("a\x00b")


def test_int64_literal_has_l_suffix_and_refuses_text():
    assert odata.int64(12345) == "12345L"
    for bad in ("1 or 1 eq 1", 1.5, True):
        with pytest.raises(ValueError):
            odata.int64(bad)


def test_datetime_literal_is_amsterdam_local_time():
    moment = datetime(2026, 11, 1, 11, 30, tzinfo=UTC)
    assert odata.datetime_(moment) == "datetime'2026-11-01T12:30:00'"


def test_compare_accepts_only_literals_from_the_builders():
    with pytest.raises(TypeError):
        odata.eq("Code", "'x' or 1 eq 1")


def test_field_names_cannot_carry_operators():
    with pytest.raises(ValueError):
        odata.eq("Code eq 'x' or Code", odata.string("y"))
    with pytest.raises(ValueError):
        odata.select(["ID", "Code,Secret"])
    assert odata.select(["ID", "SalesInvoiceLines/AmountFC"]) == "ID,SalesInvoiceLines/AmountFC"


def test_filters_compose_with_parentheses():
    clause = odata.and_(odata.gt("Timestamp", odata.int64(5)), odata.eq("Status", odata.int32(20)))
    assert clause == "(Timestamp gt 5L) and (Status eq 20)"
    assert odata.or_(odata.eq("Status", odata.int32(20))) == "Status eq 20"


def test_any_guid_builds_an_or_chain():
    other = uuid.UUID(int=1)
    assert odata.any_guid("InvoiceID", [KEY, other]) == (
        f"(InvoiceID eq guid'{KEY}') or (InvoiceID eq guid'{other}')"
    )


def test_boolean_literal():
    assert odata.boolean(False) == "false"
    with pytest.raises(ValueError):
        odata.boolean("false")
