"""Named periods ("Past 7 days", "Last month") as local-date ranges, for the period filters of
the audit trail and the review queue: one definition of where a day starts (local midnight)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

PERIODS: dict[str, str] = {
    "today": "Today",
    "7d": "Past 7 days",
    "30d": "Past 30 days",
    "month": "This month",
    "last_month": "Last month",
    "year": "This year",
}


def date_range(period: str, today: date | None = None) -> tuple[date, date] | None:
    """[first day, day after the last) of the period in local dates; None for an unknown name."""
    today = today or timezone.localdate()
    first_of_month = today.replace(day=1)
    ranges = {
        "today": (today, today),
        "7d": (today - timedelta(days=6), today),
        "30d": (today - timedelta(days=29), today),
        "month": (first_of_month, today),
        "last_month": ((first_of_month - timedelta(days=1)).replace(day=1), first_of_month),
        "year": (today.replace(month=1, day=1), today),
    }
    if period not in ranges:
        return None
    start, end = ranges[period]
    return start, end if period == "last_month" else end + timedelta(days=1)


def datetime_range(period: str) -> tuple[datetime, datetime] | None:
    """The same range as aware datetimes from local midnight to local midnight."""
    dates = date_range(period)
    if dates is None:
        return None
    zone = timezone.get_current_timezone()
    start, end = (datetime.combine(d, datetime.min.time(), tzinfo=zone) for d in dates)
    return start, end
