"""Eight workers with their own clients on one Monday token share one complexity budget: with
the sandbox's per-minute budget on (and small, so the test is quick on the shared clock), none
of their requests is refused with COMPLEXITY_BUDGET_EXHAUSTED."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from integrations.models import MondayConnection
from integrations.monday import client as monday_client
from integrations.monday.items import ItemWrite, upsert_items

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 8
ITEMS_PER_WORKER = 12
BUDGET_PER_MINUTE = 400_000  # about 13 create_item a minute: the workers must share it
CEILING = 120_000  # batches of about 4 items, so each worker sends several requests


def _close_side_connections() -> None:
    close = getattr(monday_client, "close_budget_connection", None)
    if close is not None:
        close()


def _worker(stack, conn_id: int, worker: int, results: list, errors: list) -> None:
    try:
        conn = MondayConnection.objects.get(pk=conn_id)  # its own object, its own client
        client = monday_client.for_connection(conn)
        writes = [
            ItemWrite(
                ref=f"w{worker}-{n}",
                board_id=stack.board_id,
                group_id="topics",
                name=f"Worker {worker} item {n}",
                column_values={},
                idempotency_key=f"shared-budget-{worker}-{n}",
            )
            for n in range(ITEMS_PER_WORKER)
        ]
        results.extend(upsert_items(client, writes, ceiling=CEILING))
    except BaseException as exc:  # reported by the test, never lost in the thread
        errors.append(exc)
    finally:
        _close_side_connections()
        connection.close()


def test_eight_workers_on_one_token_share_the_budget_and_none_is_refused(stack):
    stack.monday.budget_per_minute = BUDGET_PER_MINUTE
    stack.connect(divisions=((101, "Amsterdam"),))
    stack.advance(61)  # the connect calls' window is over: the workers start a fresh one
    before = len(stack.monday.requests)
    results: list = []
    errors: list = []
    threads = [
        threading.Thread(target=_worker, args=(stack, stack.monday_conn.pk, n, results, errors))
        for n in range(WORKERS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert len(results) == WORKERS * ITEMS_PER_WORKER
    assert [r.error for r in results if r.error] == []
    assert len(stack.items()) == WORKERS * ITEMS_PER_WORKER
    requests = stack.monday.requests[before:]
    refused = [r for r in requests if "COMPLEXITY_BUDGET_EXHAUSTED" in r["error_codes"]]
    assert len(refused) == 0, f"{len(refused)} of {len(requests)} requests refused"
    # The budget bound: the writes took several windows of the shared clock.
    assert sum(r["complexity"] for r in requests if r["status"] == 200) > 2 * BUDGET_PER_MINUTE
