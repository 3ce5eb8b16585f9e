from calendar import timegm
from datetime import UTC, date, datetime

import pytest

from integrations.exact.dates import (
    AMSTERDAM,
    epoch_ms_to_utc,
    filter_datetime,
    parse_date,
    parse_datetime,
)


def wire(naive_wall_clock: datetime) -> str:
    """How Exact writes an Amsterdam wall-clock time: its digits read as if they were UTC."""
    return f"/Date({timegm(naive_wall_clock.timetuple()) * 1000})/"


def test_document_dated_on_the_night_the_clocks_change_keeps_its_date():
    # 31 March 2024: the clocks went forward in the Netherlands.
    assert wire(datetime(2024, 3, 31)) == "/Date(1711843200000)/"
    assert parse_date("/Date(1711843200000)/") == date(2024, 3, 31)


def test_document_dated_31_december_keeps_its_date():
    assert parse_date(wire(datetime(2025, 12, 31))) == date(2025, 12, 31)


def test_modified_in_winter_is_one_hour_ahead_of_utc():
    moment = parse_datetime(wire(datetime(2026, 1, 15, 10, 0)))
    assert moment.tzinfo is not None
    assert moment.astimezone(UTC) == datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def test_modified_in_summer_is_two_hours_ahead_of_utc():
    moment = parse_datetime(wire(datetime(2026, 7, 15, 10, 0)))
    assert moment.astimezone(UTC) == datetime(2026, 7, 15, 8, 0, tzinfo=UTC)
    assert moment.astimezone(AMSTERDAM).hour == 10


def test_modified_just_after_the_spring_change_converts_correctly():
    moment = parse_datetime(wire(datetime(2024, 3, 31, 3, 30)))
    assert moment.astimezone(UTC) == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)


def test_null_and_empty_dates_are_none():
    assert parse_date(None) is None
    assert parse_datetime("") is None


def test_webhook_iso_time_without_offset_is_amsterdam_time():
    moment = parse_datetime("2018-12-04T13:35:28.8")
    assert moment.astimezone(UTC) == datetime(2018, 12, 4, 12, 35, 28, 800000, tzinfo=UTC)


def test_date_with_offset_suffix_is_read_as_wall_clock():
    assert parse_date("/Date(1711843200000+0100)/") == date(2024, 3, 31)


def test_garbage_date_is_refused():
    with pytest.raises(ValueError):
        parse_date("yesterday")


def test_filter_datetime_is_amsterdam_wall_clock_without_offset():
    assert filter_datetime(datetime(2026, 7, 1, 8, 0, tzinfo=UTC)) == "2026-07-01T10:00:00"
    assert filter_datetime(datetime(2026, 1, 1, 8, 0, tzinfo=UTC)) == "2026-01-01T09:00:00"
    assert filter_datetime(date(2026, 1, 1)) == "2026-01-01T00:00:00"


def test_filter_datetime_refuses_naive_datetimes():
    with pytest.raises(ValueError):
        filter_datetime(datetime(2026, 1, 1))


def test_rate_limit_reset_headers_are_real_utc_milliseconds():
    assert epoch_ms_to_utc("1767225600000") == datetime(2026, 1, 1, tzinfo=UTC)
    assert epoch_ms_to_utc("soon") is None
