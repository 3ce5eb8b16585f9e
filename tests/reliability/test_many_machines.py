"""Four `qcluster`s on PostgreSQL and Redis, standing in for four machines, over 20 divisions.

Each cluster is its own process group with its own Django, sharing only PostgreSQL, Redis and
the served sandboxes, as machines would. Exact's limits are per division (60 a minute, 5,000 a
day, each division its own window) and Monday's budget is per token; every limit is on. The
Exact access token has expired at Exact when the clusters start. One cluster is killed with
SIGKILL mid-drain; the retry-due-events job (run here, with the stale-claim age shortened from
ten minutes) hands its jobs to the other three.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import date, timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from integrations.models import ExactConnection, InboxJob, RateBudget, SyncedRecord, WebhookEvent
from integrations.sync import job_queue
from tests.reliability.conftest import item_keys, make_live
from tests.reliability.test_worker_killed import Cluster, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
State = WebhookEvent.State
DIVISIONS = [(101 + n, f"Division {n + 1}") for n in range(20)]
INVOICES_PER_DIVISION = 3


def post_invoices(live) -> list[str]:
    """Three invoices in each division, each posted at Exact (which sends its webhook)."""
    keys = []
    for code, _ in DIVISIONS:
        gl = live.exact.add_gl_account(code, "8000", "Revenue")
        customer = live.exact.add_account(code, "C001", f"Customer of {code}")
        for n in range(INVOICES_PER_DIVISION):
            invoice = live.exact.add_sales_invoice(
                code,
                account=customer["ID"],
                lines=[
                    {
                        "GLAccount": gl["ID"],
                        "Description": "Work",
                        "Quantity": 1,
                        "AmountFC": 100 + n,
                    }
                ],
                invoice_date=date(2026, 11, 23),
            )
            keys.append(invoice["InvoiceID"].lower())
    return keys


def test_four_clusters_on_redis_lose_nothing_double_nothing_and_refresh_once(
    stack, redis_broker, redis_url, monkeypatch, tmp_path
):
    live = make_live(stack, divisions=DIVISIONS)
    live.monday.latency = 0.2  # Monday answers slowly enough for the kill to land mid-drain
    keys = post_invoices(live)
    total = len(keys)
    assert WebhookEvent.objects.filter(state=State.PENDING).count() == total
    # One job a division waits in Redis: the webhooks of a division ride on its queued job.
    assert redis_broker.queue_size() == len(DIVISIONS) < total

    # The access token has expired, at Exact and in our row: the first worker to need it
    # refreshes it under the row lock, the others take the new one.
    live.clock.advance(660)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    ExactConnection.objects.update(
        access_token_issued_at=an_hour_ago,
        access_token_expires_at=an_hour_ago + timedelta(minutes=10),
    )
    refreshes_before = [r["outcome"] for r in live.exact.token_requests].count("refreshed")

    extra = {"Q_BROKER": "redis", "REDIS_URL": redis_url, "Q_WORKERS": "1"}
    clusters = [Cluster(live.url, tmp_path / f"machine{n}.log", **extra) for n in range(4)]
    try:
        done = lambda: WebhookEvent.objects.filter(state=State.DONE).count()  # noqa: E731
        wait_for(
            lambda: (
                done() >= total // 4
                and WebhookEvent.objects.filter(state=State.PROCESSING).exists()
            ),
            60,
            "a quarter of the events done and jobs in flight",
            clusters[0],
        )
        clusters[0].kill(signal.SIGKILL)
        killed_at = done()
        assert killed_at < total, "the kill should land mid-drain"

        # Later, as the every-minute retry-due-events job sees it: claims older than a few
        # seconds are stale, and unclaimed events are over a minute old.
        monkeypatch.setattr(job_queue, "STALE_CLAIM", timedelta(seconds=5))
        # ... and the dead job's turn of its division is older than the job timeout.
        InboxJob.objects.filter(running_since__isnull=False).update(
            running_since=F("running_since") - job_queue.running_stale()
        )
        deadline = time.monotonic() + 60
        while done() < total and time.monotonic() < deadline:
            time.sleep(2)
            WebhookEvent.objects.filter(state=State.PENDING, attempts=0).update(
                received_at=F("received_at") - timedelta(minutes=2)
            )
            job_queue.enqueue_due_events()
        assert done() == total, clusters[1].output()
    finally:
        for cluster in clusters:
            cluster.kill(signal.SIGTERM)

    # Nothing lost, nothing doubled: one item per invoice, one synced record per item.
    on_board = item_keys(live)
    assert sorted(on_board) == sorted(keys), Counter(on_board).most_common(3)
    records = SyncedRecord.objects.exclude(monday_item_id="")
    assert records.count() == total == records.values("exact_key").distinct().count()
    assert WebhookEvent.objects.exclude(state=State.DONE).count() == 0

    # Exactly one refresh for the expired token, whichever of the four machines made it.
    refreshes = [r["outcome"] for r in live.exact.token_requests].count("refreshed")
    assert refreshes - refreshes_before == 1
    assert all(r["status"] == 200 for r in live.exact.token_requests)

    # No budget overrun: Exact refused no call for any division's limits, Monday none for the
    # token's budget or its request rate.
    statuses = Counter(status for _, _, status in live.exact.calls)
    assert statuses[429] == 0 and statuses[401] == 0, statuses
    called = {path.split("/")[3] for _, path, _ in live.exact.calls}
    assert {str(division) for division, _ in DIVISIONS} <= called
    # Every division's budget was kept in PostgreSQL, where all four machines read it.
    assert RateBudget.objects.filter(division__in=[d for d, _ in DIVISIONS]).count() == 20
    refused = [r for r in live.monday.requests if r["status"] == 429 or r["error_codes"]]
    assert not refused, refused[:3]
