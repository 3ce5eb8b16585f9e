"""Signed webhooks posted at a fixed rate to the app served by gunicorn, then the queue drained
by a qcluster: response times, errors, and accepted = in the inbox = items on the board."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import OperationalError
from django.db import connection as db_connection

from integrations.benchmark import load_client
from integrations.benchmark.load_client import LoadResult
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


def post_at_rate(url: str, keys: list[str], division: int, *, rate: float) -> LoadResult:
    """POST one signed webhook per key, paced at `rate` a second, from this process."""
    return load_client.post_at_rate(url, [signed_body(k, division) for k in keys], rate=rate)


def post_from_own_process(url: str, keys: list[str], division: int, *, rate: float) -> LoadResult:
    """The same, from a process of its own (load_client.py says why), at normal priority."""
    with tempfile.TemporaryDirectory(prefix="mlc-load-") as tmp:
        bodies, out = Path(tmp) / "bodies.json", Path(tmp) / "result.json"
        bodies.write_text(json.dumps([signed_body(k, division).decode() for k in keys]))
        args = ["--url", url, "--rate", str(rate), "--bodies", str(bodies), "--out", str(out)]
        subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "integrations.benchmark.load_client", *args],
            check=True,
            cwd=settings.BASE_DIR,
            preexec_fn=_normal_priority,
        )
        return LoadResult(**json.loads(out.read_text()))


def _normal_priority() -> None:
    """The generator plays Exact Online's servers: it must not inherit the lowered priority of
    the benchmark process, which serves the sandboxes (processes.lowered_priority says why).
    Raising a priority needs root: without it, the generator stays lowered too."""
    with suppress(PermissionError):
        os.setpriority(os.PRIO_PROCESS, 0, 0)


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
