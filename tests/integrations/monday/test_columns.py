"""Column value encoders: one per type, the JSON Monday expects, problems as results."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from integrations.monday.columns import (
    BoardColumn,
    MappingProblem,
    encode_checkbox,
    encode_column_values,
    encode_date,
    encode_datetime,
    encode_dropdown,
    encode_email,
    encode_for_column,
    encode_link,
    encode_long_text,
    encode_numbers,
    encode_people,
    encode_status,
    encode_text,
    encode_value,
    encode_values,
)

AMS = ZoneInfo("Europe/Amsterdam")
STATUS = BoardColumn(
    "status", "Status", "status", {"labels": {"0": "Open", "1": "Betaald ✓", "2": "Überfällig"}}
)
COST_CENTER = BoardColumn(
    "cost_center",
    "Cost center",
    "dropdown",
    {"labels": [{"id": 1, "name": "KP-100"}, {"id": 2, "name": "Café"}]},
)


# text / long_text
def test_text_keeps_quotes_and_turns_line_breaks_into_spaces():
    assert encode_text('He said "hi"\nthen\r\nleft') == 'He said "hi" then left'


def test_long_text_keeps_quotes_and_newlines_inside_its_object():
    value = encode_long_text('Line "one"\nLine \\two')
    assert value == {"text": 'Line "one"\nLine \\two'}
    # Encoded once: the string decodes back to the exact object.
    assert json.loads(encode_column_values({"d": value})) == {"d": value}


# numbers
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1234.56"), "1234.56"),
        (Decimal("-1234.56"), "-1234.56"),  # credit note
        (Decimal("0.123456789012345678"), "0.123456789012345678"),
        (Decimal("1E+3"), "1000"),
        (0.1, "0.1"),
        (1e-7, "0.0000001"),
        (-0.0, "0.0"),
        (Decimal("-0.00"), "0.00"),
        (42, "42"),
        ("  -7.50 ", "-7.50"),
    ],
)
def test_numbers_are_exact_decimal_strings_without_exponent(value, expected):
    assert encode_numbers(value) == expected


@pytest.mark.parametrize("value", ["abc", float("nan"), float("inf"), True])
def test_a_value_that_is_not_a_number_is_a_mapping_problem(value):
    result = encode_value(BoardColumn("amount", "Amount", "numbers"), value)
    assert isinstance(result, MappingProblem)
    assert result.reason == "invalid_value"
    assert "Amount" in result.message


# date / date with time
def test_a_date_is_written_as_iso_date():
    assert encode_date(date(2026, 11, 23)) == {"date": "2026-11-23"}


def test_a_datetime_just_after_midnight_in_amsterdam_keeps_its_amsterdam_date():
    # 00:30 in Amsterdam is 23:30 UTC the day before; the calendar date is Amsterdam's.
    moment = datetime(2026, 1, 15, 0, 30, tzinfo=AMS)
    assert encode_date(moment) == {"date": "2026-01-15"}
    assert encode_date(moment.astimezone(UTC)) == {"date": "2026-01-15"}


def test_date_with_time_is_converted_from_amsterdam_to_utc():
    assert encode_datetime(datetime(2026, 1, 15, 0, 30, tzinfo=AMS)) == {
        "date": "2026-01-14",
        "time": "23:30:00",
    }
    # Summer time: two hours.
    assert encode_datetime(datetime(2026, 7, 1, 1, 59, 59, tzinfo=AMS)) == {
        "date": "2026-06-30",
        "time": "23:59:59",
    }


def test_a_naive_datetime_is_read_as_amsterdam_time():
    assert encode_datetime(datetime(2026, 3, 29, 3, 0)) == {
        "date": "2026-03-29",
        "time": "01:00:00",
    }


def test_the_date_column_writes_dates_as_dates_and_datetimes_with_utc_time():
    column = BoardColumn("d", "Date", "date")
    assert encode_value(column, date(2026, 12, 31)) == {"date": "2026-12-31"}
    assert encode_value(column, datetime(2027, 1, 1, 0, 0, tzinfo=AMS)) == {
        "date": "2026-12-31",
        "time": "23:00:00",
    }
    assert encode_value(column, "2026-02-30").reason == "invalid_value"


# status
def test_status_label_is_matched_to_the_boards_own_spelling():
    assert encode_status(STATUS, "open") == {"label": "Open"}
    assert encode_status(STATUS, "BETAALD ✓") == {"label": "Betaald ✓"}


def test_non_ascii_status_label_matches_across_unicode_normal_forms():
    decomposed = "U\u0308berfa\u0308llig"  # Ü and ä as base letter + combining mark
    assert encode_status(STATUS, decomposed) == {"label": "Überfällig"}


def test_unknown_status_label_is_a_mapping_problem_not_an_exception():
    result = encode_status(STATUS, "KP-410")
    assert result == MappingProblem("status", "Status", "KP-410", "unknown_label")
    assert (
        result.message
        == "The Monday.com column “Status” has no label “KP-410”. Choose one of its labels in the mapping, or allow new labels on the route."
    )


def test_unknown_status_label_is_sent_when_the_route_allows_new_labels():
    assert encode_status(STATUS, "Nieuw", create_labels_if_missing=True) == {"label": "Nieuw"}


# dropdown
def test_dropdown_labels_are_matched_and_unknown_ones_reported():
    assert encode_dropdown(COST_CENTER, "kp-100") == {"labels": ["KP-100"]}
    assert encode_dropdown(COST_CENTER, ["Café", "KP-100"]) == {"labels": ["Café", "KP-100"]}
    problem = encode_dropdown(COST_CENTER, "KP-410")
    assert (
        problem.message
        == "The Monday.com column “Cost center” has no label “KP-410”. Choose one of its labels in the mapping, or allow new labels on the route."
    )
    assert encode_dropdown(COST_CENTER, "KP-410", create_labels_if_missing=True) == {
        "labels": ["KP-410"]
    }


# link / email / checkbox / people
def test_link_has_url_and_text_and_refuses_other_schemes():
    assert encode_link(("https://start.exactonline.nl/x?a=1&b=2", "Invoice 7")) == {
        "url": "https://start.exactonline.nl/x?a=1&b=2",
        "text": "Invoice 7",
    }
    assert encode_link("https://e.test") == {"url": "https://e.test", "text": "https://e.test"}
    assert (
        encode_value(BoardColumn("l", "Link", "link"), "javascript:alert(1)").reason
        == "invalid_value"
    )


def test_email_has_address_and_text():
    assert encode_email("ap@acme.test") == {"email": "ap@acme.test", "text": "ap@acme.test"}
    assert (
        encode_value(BoardColumn("e", "Email", "email"), "not an email").reason == "invalid_value"
    )


def test_checkbox_is_checked_with_the_string_true():
    assert encode_checkbox(True) == {"checked": "true"}
    assert encode_checkbox(False) is None


def test_people_are_persons_and_teams():
    assert encode_people([1, (2, "team")]) == {
        "personsAndTeams": [{"id": 1, "kind": "person"}, {"id": 2, "kind": "team"}]
    }


def test_read_only_columns_are_reported_not_written():
    assert encode_value(BoardColumn("f", "Total", "formula"), 1).reason == "read_only"


# column_values
def test_column_values_is_one_json_string_encoded_once_with_non_ascii_intact():
    values = {
        "text": 'Quote " and \\ and\nnewline',
        "status": {"label": "Überfällig"},
        "n": "-0.01",
    }
    encoded = encode_column_values(values)
    assert isinstance(encoded, str)
    assert json.loads(encoded) == values  # one decode gives the object back: not encoded twice
    assert "Überfällig" in encoded


def test_a_mapping_problem_cannot_slip_into_column_values():
    with pytest.raises(ValueError):
        encode_column_values({"status": encode_status(STATUS, "KP-410")})


def test_encode_values_writes_the_good_values_and_collects_problems():
    result = encode_values(
        {"status": STATUS, "cost_center": COST_CENTER},
        {"status": "Open", "cost_center": "KP-410"},
    )
    assert result.values == {"status": {"label": "Open"}}
    assert [p.value for p in result.problems] == ["KP-410"]


def test_encode_for_column_takes_a_cached_column_dict():
    column = {
        "id": "cost_center",
        "title": "Cost center",
        "type": "dropdown",
        "settings": COST_CENTER.settings,
    }
    assert encode_for_column(column, "KP-100").value == {"labels": ["KP-100"]}
    bad = encode_for_column(column, "KP-410")
    assert bad.value is None
    assert (
        bad.problem
        == "The Monday.com column “Cost center” has no label “KP-410”. Choose one of its labels in the mapping, or allow new labels on the route."
    )
