"""PostgreSQL restarted in the middle of a poll: the poll fails, the next one completes, and the
cursor never skips a record (every invoice is on the board exactly once).

Needs root (pg_ctlcluster) and restarts the shared local cluster for a few seconds.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django import db
from django.db.utils import DatabaseError

from integrations.models import PollCursor, SyncedRecord
from integrations.sync import polling
from tests.reliability.conftest import item_keys, make_live
from tests.reliability.counters import COUNTS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def restart_postgresql() -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", "-m", "fast", version, "main", "restart"],
        check=True,
        timeout=90,  # bounded: a restart that hangs fails the test instead of the run
        capture_output=True,
    )


@pytest.fixture
def restart_during_second_page(stack):
    """PostgreSQL restarts right after Monday.com applied the first write of the second page
    (the first mutation after the cursor moved), before that batch's records are saved."""
    real = stack.monday._execute
    restarts = []

    def execute(*args):
        answer = real(*args)
        cost = args[6]
        if cost.mutations and not restarts:
            moved = PollCursor.objects.filter(timestamp__gt=1).exists()
            db.connection.close()  # this sandbox thread's own connection
            if moved:
                restart_postgresql()
                restarts.append(True)
                COUNTS["faults injected: PostgreSQL restarted mid-poll"] += 1
        return answer

    stack.monday._execute = execute
    return restarts


def test_postgresql_restart_mid_poll_fails_the_poll_and_the_next_one_skips_nothing(
    stack, restart_during_second_page
):
    live = make_live(stack, webhooks=False)
    route = live.route_obj
    # Documents are written in batches of 1,000 (once the feed is read): 1,200 make two batches.
    invoices = live.exact.bulk_add_sales_invoices(101, 1200, lines_per_invoice=1)
    with pytest.raises(DatabaseError):
        polling.poll_division(route, 101)
    db.close_old_connections()  # what the worker does before its next task
    assert restart_during_second_page == [True]
    cursor = PollCursor.objects.get(route=route, division=101, feed=route.entity)
    assert 1 < cursor.timestamp < live.exact.store.rowversion  # after page 1, before page 2
    assert cursor.running_since is None and cursor.last_error
    known = SyncedRecord.objects.exclude(monday_item_id="").count()
    assert 0 < known < len(item_keys(live)) <= 1200  # Monday has writes we never recorded
    second = polling.poll_division(route, 101)
    # The failed poll released its claim (Django reconnects after the failed rollback), so
    # the next poll runs at once rather than after polling.STALE_CLAIM.
    assert second["documents"] == 1200 - known and second["failed"] == 0
    keys = item_keys(live)
    assert len(keys) == len(set(keys)) == 1200
    assert set(keys) == {str(key).lower() for key in invoices}
    assert SyncedRecord.objects.exclude(monday_item_id="").count() == 1200
    cursor.refresh_from_db()
    assert cursor.timestamp == live.exact.store.rowversion and cursor.running_since is None
