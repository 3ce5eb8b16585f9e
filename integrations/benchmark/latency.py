"""The webhook phases on PostgreSQL: ingestion under load, the drain, and webhook-to-item
latency with a real qcluster. The sandboxes are served from this process; gunicorn and the
qcluster reach them over HTTP through the connections' base_url/api_url."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.db import connection

from integrations.benchmark import measure, processes
from integrations.benchmark.webhook_load import post_at_rate, tally, wait_drained
from integrations.benchmark.world import add_invoices, build_world
from integrations.models import SyncedRecord, WebhookEvent


def check_database() -> None:
    if connection.vendor != "postgresql":
        raise RuntimeError("The webhook phases need DATABASE_URL to point at PostgreSQL.")
    name = connection.settings_dict["NAME"]
    if "bench" not in name and not name.startswith("test_"):  # test_: pytest's own database
        raise RuntimeError("The webhook phases write for real: use a database named *bench*.")


def run_webhook_phases(
    *,
    latency: float,
    rate: float,
    seconds: float,
    gunicorn_workers: int,
    q_workers: int,
    q_poll: float,
    item_rate: float,
    item_seconds: float,
    drain_timeout: float = 1800.0,
) -> dict:
    """Ingestion at `rate`/s for `seconds`, drained by a qcluster; then webhook-to-item latency
    at `item_rate`/s for `item_seconds` with the qcluster running."""
    check_database()
    gunicorn_workers = gunicorn_workers or len(os.sched_getaffinity(0))
    logs = Path(tempfile.mkdtemp(prefix="mlc-bench-"))
    # These phases measure ingestion and the workers' drain, as before the sandboxes had their
    # limits on by default: at 200 webhooks a second the call and budget limits (Exact's 60 a
    # minute and 5,000 a day, Monday's budget, request rate and daily calls) would make the
    # drain a measure of those limits; the budget phase measures them. Every other limit is on.
    world = build_world(
        exact_limits_off={"minutely", "daily"},
        monday_limits_off={"complexity_budget", "requests_per_minute", "daily_calls"},
    )
    web = cluster = None
    try:
        load_keys = [k.lower() for k in add_invoices(world, int(rate * seconds), seed=1)]
        item_keys = [k.lower() for k in add_invoices(world, int(item_rate * item_seconds), seed=2)]
        world.set_latency(latency)
        env = processes.child_env()
        port = processes.free_port()
        web = processes.start_gunicorn(
            port, workers=gunicorn_workers, env=env, log=logs / "gunicorn.log"
        )
        url = f"http://127.0.0.1:{port}/webhooks/exact/"
        load = post_at_rate(url, load_keys, world.division, rate=rate)
        load_average = [round(x, 2) for x in os.getloadavg()]
        cluster = processes.start_qcluster(
            workers=q_workers, poll=q_poll, env=env, log=logs / "qcluster.log"
        )
        drain_s, undrained = wait_drained(load_keys, timeout=drain_timeout)
        ingest = {
            "rate_per_s": rate,
            "seconds": seconds,
            "gunicorn_workers": gunicorn_workers,
            # Other work on the machine competes for the same cores: the 1/5/15-min load.
            "load_average": load_average,
            **load.figures(),
            **tally(world, load_keys),
            "drain_s": round(drain_s, 1),
            "undrained": undrained,
            "drain_events_per_s": round(len(load_keys) / drain_s, 1) if drain_s else None,
            "q_workers": q_workers,
        }
        ingest["lost"] = ingest["accepted"] - ingest["inbox_events"]
        ingest["doubled"] = ingest["items_on_board"] - ingest["distinct_items"]
        trickle = post_at_rate(url, item_keys, world.division, rate=item_rate)
        _, undrained = wait_drained(item_keys, timeout=drain_timeout)
        to_item = _to_item(item_keys)
        to_item.update(
            rate_per_s=item_rate, seconds=item_seconds, q_poll_s=q_poll, undrained=undrained
        )
        to_item.update(posted=trickle.sent, errors=trickle.errors, **tally(world, item_keys))
    finally:
        processes.stop(cluster)
        processes.stop(web)
        world.close()
    return {"webhook_ingest": ingest, "webhook_to_item": to_item, "logs": str(logs)}


def _to_item(keys: list[str]) -> dict:
    """Seconds from WebhookEvent.received_at to SyncedRecord.synced_at, per key."""
    received = dict(
        WebhookEvent.objects.filter(exact_key__in=keys).values_list("exact_key", "received_at")
    )
    synced = dict(
        SyncedRecord.objects.filter(exact_key__in=keys).values_list("exact_key", "synced_at")
    )
    delays = [
        (synced[k] - received[k]).total_seconds() for k in keys if received.get(k) and synced.get(k)
    ]
    p = measure.percentile
    return {
        "measured": len(delays),
        "p50_s": round(p(delays, 50), 3) if delays else None,
        "p95_s": round(p(delays, 95), 3) if delays else None,
        "max_s": round(max(delays), 3) if delays else None,
    }
