"""Signed webhooks posted at a fixed rate to the app served by gunicorn, then the queue drained
by a qcluster: response times, errors, and accepted = in the inbox = items on the board."""

from __future__ import annotations

import gc
import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db import OperationalError
from django.db import connection as db_connection

from integrations.benchmark import measure
from integrations.exact import webhooks
from integrations.models import SyncedRecord, WebhookEvent

OPEN_STATES = (WebhookEvent.State.PENDING, WebhookEvent.State.PROCESSING)


def signed_body(key: str, division: int) -> bytes:
    """The body Exact would POST for a created sales invoice, signed with the app's secret."""
    content = {
        "Topic": "SalesInvoices",
        "ClientId": settings.EXACT_CLIENT_ID,
        "Division": division,
        "Action": "Create",
        "Key": key,
        "EventCreatedOn": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    raw = json.dumps(content, separators=(",", ":")).encode()
    return webhooks.envelope(raw, settings.EXACT_WEBHOOK_SECRET)


@dataclass
class LoadResult:
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    max_dispatch_lag_ms: float = 0.0
    wall_s: float = 0.0
    error_samples: list[str] = field(default_factory=list)

    def figures(self) -> dict:
        p = measure.percentile
        return {
            "sent": self.sent,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "achieved_rate_per_s": round(self.sent / self.wall_s, 1) if self.wall_s else 0.0,
            "p50_ms": _round(p(self.latencies_ms, 50)),
            "p95_ms": _round(p(self.latencies_ms, 95)),
            "p99_ms": _round(p(self.latencies_ms, 99)),
            "max_ms": _round(max(self.latencies_ms, default=None)),
            "max_dispatch_lag_ms": round(self.max_dispatch_lag_ms, 1),
            "error_samples": self.error_samples[:5],
        }


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def post_at_rate(url: str, keys: list[str], division: int, *, rate: float) -> LoadResult:
    """POST one signed webhook per key, paced at `rate` a second from a pool of threads.
    Response time is measured from the send to the end of the answer."""
    result = LoadResult()
    lock = threading.Lock()
    parts = urlsplit(url)
    headers = {"Content-Type": "application/json", "X-Forwarded-Proto": "https"}

    def send(key: str) -> None:
        # http.client, one connection per request (gunicorn's sync workers close it anyway):
        # the lightest client, so the generator takes as little CPU from the server as it can.
        body = signed_body(key, division)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        started = time.perf_counter()
        try:
            conn.request("POST", parts.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            code = response.status
            status = json.loads(payload).get("status") if code == 200 else None
            problem = "" if code == 200 else f"HTTP {code}"
        except (OSError, ValueError, http.client.HTTPException) as exc:
            elapsed, status, problem = None, None, type(exc).__name__
        finally:
            conn.close()
        with lock:
            result.sent += 1
            if elapsed is not None:
                result.latencies_ms.append(elapsed)
            if problem:
                result.errors += 1
                result.error_samples.append(problem)
            elif status == "duplicate":
                result.duplicates += 1
            else:
                result.accepted += 1

    # This process holds the earlier phases' objects and the sandboxes' stores: a full garbage
    # collection here would stall the generator's threads and be counted as server time.
    gc.collect()
    gc.freeze()
    gc.disable()
    start = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=64, thread_name_prefix="load") as pool:
            for index, key in enumerate(keys):
                due = start + index / rate
                lag = time.perf_counter() - due
                if lag < 0:
                    time.sleep(-lag)
                else:
                    result.max_dispatch_lag_ms = max(result.max_dispatch_lag_ms, lag * 1000)
                pool.submit(send, key)
    finally:
        result.wall_s = time.perf_counter() - start
        gc.enable()
        gc.unfreeze()
    return result


def wait_drained(
    keys: list[str], *, timeout: float, stall: float = 60.0, tick=None
) -> tuple[float, int]:
    """Wait until none of these keys' inbox events is pending or processing. Returns (seconds,
    events still open); gives up after `timeout`, or after `stall` seconds without progress
    (events waiting for a retry far ahead). `tick()`, if given, runs at every look."""
    start = last_change = time.monotonic()
    last = None
    while True:
        now = time.monotonic()
        still = _open_events(keys)
        if not still or now - start > timeout or now - last_change > stall:
            return now - start, still
        if still != last:
            last, last_change = still, now
        if tick is not None:
            tick()
        time.sleep(0.25)


def _open_events(keys: list[str], attempts: int = 30, states=OPEN_STATES) -> int:
    """Open events of these keys; survives the database restarting under us (reconnects)."""
    for attempt in range(attempts):
        try:
            return WebhookEvent.objects.filter(exact_key__in=keys, state__in=states).count()
        except OperationalError:
            db_connection.close()
            if attempt == attempts - 1:
                raise
            time.sleep(1)
    return 0


def tally(world, keys: list[str]) -> dict:
    """What ended where: inbox events, their states, synced records and board items."""
    events = WebhookEvent.objects.filter(exact_key__in=keys)
    states: dict[str, int] = {}
    for state in events.values_list("state", flat=True):
        states[state] = states.get(state, 0) + 1
    wanted = set(keys)
    on_board = [i["texts"].get("exact_key") for i in world.items()]
    ours = [k for k in on_board if k in wanted]
    return {
        "inbox_events": events.count(),
        "event_states": states,
        "synced_records": SyncedRecord.objects.filter(
            route=world.route, exact_key__in=keys
        ).count(),
        "items_on_board": len(ours),
        "distinct_items": len(set(ours)),
    }
