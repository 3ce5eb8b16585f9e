"""Exact's `/Date(ms)/` values: Dutch wall-clock time, not UTC. Pure functions."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_EPOCH = datetime(1970, 1, 1)
# "/Date(1672531200000)/", also seen with an offset suffix "/Date(1672531200000+0100)/".
_WCF_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")


def _wall_clock(value: str | None) -> datetime | None:
    """The naive wall-clock datetime the raw number encodes, or None for null/empty."""
    if value in (None, ""):
        return None
    match = _WCF_DATE.match(str(value).strip())
    if match:
        # Reference: exact-online.md §3.6 — the number is Amsterdam local time read as if UTC,
        # so it is taken as a naive wall clock; never convert it through a time zone first.
        return _EPOCH + timedelta(milliseconds=int(match.group(1)))
    # Webhook EventCreatedOn has been seen as an ISO string without offset ("2018-12-04T13:35:28.8").
    try:
        parsed = datetime.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ValueError("not an Exact Online date value") from exc
    if parsed.tzinfo is not None:
        return parsed.astimezone(AMSTERDAM).replace(tzinfo=None)
    return parsed


def parse_date(value: str | None) -> date | None:
    """A date-only field (InvoiceDate, OrderDate, ...): the calendar date of the raw number."""
    wall = _wall_clock(value)
    return wall.date() if wall else None


def parse_datetime(value: str | None) -> datetime | None:
    """A moment (Modified, Created, EventCreatedOn): Amsterdam wall clock, made aware.

    # Unconfirmed: reported by Airbyte citing Exact's REST FAQ; cross-check with
    # Me.ServerUtcOffset. In the repeated hour of the autumn DST change the first
    # occurrence (fold=0, CEST) is chosen.
    """
    wall = _wall_clock(value)
    return wall.replace(tzinfo=AMSTERDAM) if wall else None


def filter_datetime(moment: datetime | date) -> str:
    """The `YYYY-MM-DDTHH:MM:SS` text of a `datetime'…'` literal, in Amsterdam wall-clock time."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            raise ValueError("filter datetimes must be timezone-aware")
        local = moment.astimezone(AMSTERDAM).replace(tzinfo=None)
    else:
        local = datetime(moment.year, moment.month, moment.day)
    return local.strftime("%Y-%m-%dT%H:%M:%S")


def epoch_ms_to_utc(value: str | int | None) -> datetime | None:
    """X-RateLimit-*-Reset headers: real UTC epoch milliseconds (unlike `/Date()/` bodies)."""
    if value in (None, ""):
        return None
    try:
        return datetime.fromtimestamp(int(str(value).strip()) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
