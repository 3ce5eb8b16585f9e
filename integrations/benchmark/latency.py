"""The webhook phases on PostgreSQL, every limit of both sandboxes on: a lone event's
webhook-to-item latency, then ingestion under load with a real qcluster draining beside it. The sandboxes are served from this process; gunicorn and the
qcluster reach them over HTTP through the connections' base_url/api_url."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from integrations.benchmark import measure, processes
from integrations.benchmark.webhook_load import (
    post_at_rate,
    post_from_own_process,
    tally,
    wait_drained,
)
from integrations.benchmark.world import add_invoices, build_world
from integrations.models import SyncedRecord, WebhookEvent

# Lone events: a pause between them keeps Exact's 60 calls a minute (2 an event) from binding.
LONE_GAP = 2.0
LONE_TIMEOUT = 60.0


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
    """Lone webhook events first (each posted when the one before is on the board), then
    ingestion at `rate`/s for `seconds` with the qcluster draining beside it, every limit on.
    `item_rate` x `item_seconds` is how many lone events are measured."""
    check_database()
    gunicorn_workers = gunicorn_workers or processes.gunicorn_workers()
    logs = Path(tempfile.mkdtemp(prefix="mlc-bench-"))
    world = build_world()  # every limit of both sandboxes on
    web = cluster = None
    try:
        lone_keys = [k.lower() for k in add_invoices(world, int(item_rate * item_seconds), seed=2)]
        load_keys = [k.lower() for k in add_invoices(world, int(rate * seconds), seed=1)]
        world.set_latency(latency)
        env = processes.child_env()
        port = processes.free_port()
        web = processes.start_gunicorn(
            port, workers=gunicorn_workers, env=env, log=logs / "gunicorn.log"
        )
        cluster = processes.start_qcluster(
            workers=q_workers, poll=q_poll, env=env, log=logs / "qcluster.log"
        )
        url = f"http://127.0.0.1:{port}/webhooks/exact/"
        to_item = post_lone_events(url, lone_keys, world.division, timeout=LONE_TIMEOUT)
        to_item.update(q_poll_s=q_poll, **tally(world, lone_keys))
        cpu_before = processes.tree_cpu_seconds(web.pid)
        with processes.lowered_priority(settings.QCLUSTER_NICENESS):
            load = post_from_own_process(url, load_keys, world.division, rate=rate)
        cpu_after = processes.tree_cpu_seconds(web.pid)
        load_average = [round(x, 2) for x in os.getloadavg()]
        # Workers may wait out a Monday budget window (up to a minute) with no event ending.
        drain_s, undrained = wait_drained(load_keys, timeout=drain_timeout, stall=180)
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
            "limits": "on",
            # What a webhook costs the web server in CPU under this load (all of gunicorn's
            # processes, from /proc): the figure the response times hang on, on 2 cores.
            "server_cpu_ms_per_webhook": (
                round((cpu_after - cpu_before) * 1000 / load.sent, 2)
                if cpu_before is not None and cpu_after is not None and load.sent
                else None
            ),
        }
        ingest["lost"] = lost(ingest)
        ingest["doubled"] = ingest["items_on_board"] - ingest["distinct_items"]
    finally:
        processes.stop(cluster)
        processes.stop(web)
        world.close()
    return {"webhook_ingest": ingest, "webhook_to_item": to_item, "logs": str(logs)}


def lost(figures: dict) -> int:
    """Acknowledged but not in the inbox, or in the inbox but not ended done or dead."""
    states = figures["event_states"]
    ended = states.get("done", 0) + states.get("dead", 0)
    return max(figures["accepted"] - figures["inbox_events"], 0) + (figures["inbox_events"] - ended)


def post_lone_events(url: str, keys: list[str], division: int, *, timeout: float) -> dict:
    """One event at a time, the next after the last is on the board and a pause: each meets
    an idle worker, as a lone event during the day does."""
    posted = errors = 0
    for key in keys:
        load = post_at_rate(url, [key], division, rate=1)
        posted, errors = posted + load.sent, errors + load.errors
        wait_drained([key], timeout=timeout)
        time.sleep(LONE_GAP)
    figures = _to_item(keys)
    figures.update(posted=posted, errors=errors, gap_s=LONE_GAP)
    return figures


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
