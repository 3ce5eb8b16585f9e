"""The review queue's date filters: by document date and by the day an item was flagged,
in named periods counted in local days."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from audit.periods import date_range
from integrations.models import SyncedRecord

pytestmark = pytest.mark.django_db
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 11, 15, 12, 0, tzinfo=AMSTERDAM)


def flagged(route, number: str, *, document: str, flagged_at: datetime) -> SyncedRecord:
    return SyncedRecord.objects.create(
        route=route,
        division=route.divisions.first().code,
        exact_key=f"key-{number}",
        exact_number=number,
        state=SyncedRecord.State.FLAGGED,
        snapshot={"date": document, "gl_account": "8000", "amount": "1", "currency": "EUR"},
        review_reasons=["GL account 8000 has no mapping for the GL account column"],
        flagged_at=flagged_at,
    )


def numbers(client, **params) -> set[str]:
    page = client.get(reverse("admin:review_queue"), params).content.decode()
    return {n for n in ("A-OCT", "B-NOV", "C-TODAY") if f"<td>{n}</td>" in page}


@time_machine.travel(NOW, tick=False)
def test_the_queue_filters_by_document_date_and_by_flagged_date(admin_client, route):
    flagged(
        route,
        "A-OCT",
        document="2026-10-31",
        flagged_at=datetime(2026, 11, 1, 0, 30, tzinfo=AMSTERDAM),
    )
    flagged(
        route,
        "B-NOV",
        document="2026-11-02",
        flagged_at=datetime(2026, 11, 14, 23, 59, tzinfo=AMSTERDAM),
    )
    flagged(
        route,
        "C-TODAY",
        document="2026-11-15",
        flagged_at=datetime(2026, 11, 15, 0, 1, tzinfo=AMSTERDAM),
    )
    assert numbers(admin_client) == {"A-OCT", "B-NOV", "C-TODAY"}
    assert numbers(admin_client, document_date="last_month") == {"A-OCT"}
    assert numbers(admin_client, document_date="month") == {"B-NOV", "C-TODAY"}
    assert numbers(admin_client, document_date="today") == {"C-TODAY"}
    # 00:30 local on 1 Nov is 31 Oct in UTC: the day is counted in local time.
    assert numbers(admin_client, flagged="month") == {"A-OCT", "B-NOV", "C-TODAY"}
    assert numbers(admin_client, flagged="today") == {"C-TODAY"}
    assert numbers(admin_client, flagged="7d") == {"B-NOV", "C-TODAY"}
    assert numbers(admin_client, flagged="7d", document_date="month") == {"B-NOV", "C-TODAY"}
    assert numbers(admin_client, flagged="today", document_date="last_month") == set()
    assert numbers(admin_client, flagged="nonsense") == {"A-OCT", "B-NOV", "C-TODAY"}
    page = admin_client.get(reverse("admin:review_queue"), {"flagged": "7d"}).content.decode()
    assert '<option value="7d" selected>Past 7 days</option>' in page
    assert "Flagged items: 2 of 3" in page


def test_periods_are_whole_local_days():
    today = date(2026, 3, 10)
    assert date_range("today", today) == (today, date(2026, 3, 11))
    assert date_range("7d", today) == (date(2026, 3, 4), date(2026, 3, 11))
    assert date_range("last_month", today) == (date(2026, 2, 1), date(2026, 3, 1))
    assert date_range("last_month", date(2026, 1, 5)) == (date(2025, 12, 1), date(2026, 1, 1))
    assert date_range("year", today) == (date(2026, 1, 1), date(2026, 3, 11))
    assert date_range("whenever", today) is None
