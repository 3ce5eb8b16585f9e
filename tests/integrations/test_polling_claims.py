"""Two polls of one division never overlap; a crashed poll's claim expires."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import PollCursor
from integrations.sync import polling

pytestmark = pytest.mark.django_db


@pytest.fixture
def cursor(route):
    return PollCursor.objects.create(route=route, division=101, feed=route.entity)


def test_a_running_poll_is_not_started_twice(route, cursor):
    assert polling.claim_cursor(cursor) is True
    assert polling.claim_cursor(cursor) is False
    assert polling.poll_division(route, 101) == {"skipped": "another poll is running"}


def test_a_claim_left_by_a_crashed_worker_expires(route, cursor):
    PollCursor.objects.filter(pk=cursor.pk).update(
        running_since=timezone.now() - polling.STALE_CLAIM - timedelta(seconds=1)
    )
    assert polling.claim_cursor(cursor) is True


def test_release_records_success_or_the_error(cursor):
    polling.claim_cursor(cursor)
    polling.release_cursor(cursor, error="Exact Online is unavailable.")
    cursor.refresh_from_db()
    assert cursor.running_since is None and cursor.last_error == "Exact Online is unavailable."
    assert cursor.last_success_at is None
    polling.claim_cursor(cursor)
    polling.release_cursor(cursor)
    cursor.refresh_from_db()
    assert cursor.last_success_at is not None and cursor.last_error == ""


def test_poll_route_skips_a_connection_that_needs_reauthorization(route):
    route.exact_connection.status = "needs_reauth"
    route.exact_connection.save()
    assert polling.poll_route(route) == {"skipped": "Exact Online needs re-authorization"}
    assert not PollCursor.objects.exists()
