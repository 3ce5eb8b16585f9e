"""Sending packed mutation batches and mapping each alias's answer back to its own write."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from integrations.errors import IntegrationError, ReconnectRequired, UnexpectedResponse
from integrations.monday.batching import Operation, alias, batch_cost, build_document, pack
from integrations.monday.client import MondayClient
from integrations.monday.errors import ComplexityExceeded, MondayColumnError

logger = logging.getLogger(__name__)

MAX_ROUNDS = 3  # first attempt + resends of aliases Monday failed alone with a retryable error


@dataclass(frozen=True)
class ItemResult:
    ref: str
    item_id: str | None
    created: bool
    error: IntegrationError | None


def operation_key(op: Operation, given: str) -> str:
    """The write's own key, or one derived from the mutation and its arguments."""
    if given:
        return given
    blob = json.dumps([op.field, op.args], sort_keys=True, default=str)
    return "mlc-" + hashlib.sha256(blob.encode()).hexdigest()[:40]


def request_key(keys: Iterable[str]) -> str:
    """Monday's Idempotency-Key is per request: derived from its writes' keys, in order, so
    resending the same batch after a timeout is a replay and a different batch is not."""
    return "mlc-b-" + hashlib.sha256("|".join(keys).encode()).hexdigest()[:40]


def _label_in(value: Any) -> str:
    if isinstance(value, dict):
        label = value.get("label") or value.get("labels")
        if isinstance(label, list):
            return ", ".join(str(x) for x in label)
        return str(label or "")
    return ""


@dataclass(frozen=True)
class Pending:
    """One mutation waiting to be sent, with its idempotency key and the values it writes."""

    op: Operation
    key: str
    column_values: dict[str, Any]


def run_operations(
    client: MondayClient, pending: list[Pending], *, ceiling: int, max_aliases: int
) -> dict[str, ItemResult]:
    """Send ops in batches packed under `ceiling`; one ItemResult per op ref.

    Raises only ReconnectRequired; every other error comes back on the results it concerns."""
    results: dict[str, ItemResult] = {}
    todo = pending
    for round_no in range(MAX_ROUNDS):
        retry: list[Pending] = []
        by_op = {id(p.op): p for p in todo}
        for batch in pack([p.op for p in todo], ceiling=ceiling, max_aliases=max_aliases):
            outcome = send_batch(client, [by_op[id(op)] for op in batch])
            for p in (by_op[id(op)] for op in batch):
                result = outcome[p.op.ref]
                results[p.op.ref] = result
                # Only an alias Monday failed alone is resent: request-level failures were
                # already retried by the client and would only fail again.
                error = result.error
                if error is not None and error.retryable and getattr(error, "alias", ""):
                    retry.append(p)
        if not retry or round_no == MAX_ROUNDS - 1:
            break
        logger.info("monday.items.retrying", extra={"count": len(retry), "round": round_no + 1})
        todo = retry
    return results


def send_batch(client: MondayClient, batch: list[Pending]) -> dict[str, ItemResult]:
    """One aliased request; alias mN's answer or error goes to batch[N]. A batch Monday finds
    too complex is split in two and sent again."""
    document, variables = build_document([p.op for p in batch])
    try:
        result = client.execute_partial(
            document,
            variables,
            idempotency_key=request_key(p.key for p in batch),
            expected_complexity=batch_cost([p.op for p in batch]),
        )
    except ReconnectRequired:
        raise
    except ComplexityExceeded as err:
        if len(batch) == 1:
            return {batch[0].op.ref: ItemResult(batch[0].op.ref, None, False, err)}
        half = len(batch) // 2
        return {**send_batch(client, batch[:half]), **send_batch(client, batch[half:])}
    except IntegrationError as err:
        return {p.op.ref: ItemResult(p.op.ref, None, False, err) for p in batch}
    errors = {e.alias: e for e in result.alias_errors if getattr(e, "alias", "")}
    out: dict[str, ItemResult] = {}
    for index, p in enumerate(batch):
        name = alias(index)
        answer = result.data.get(name)
        created = p.op.field in ("create_item", "create_subitem")
        if isinstance(answer, dict) and answer.get("id"):
            out[p.op.ref] = ItemResult(p.op.ref, str(answer["id"]), created, None)
            continue
        error = errors.get(name) or UnexpectedResponse("Monday.com returned no item for it.")
        if isinstance(error, MondayColumnError) and not error.label:
            error.label = _label_in(p.column_values.get(error.column_id))
        item_id = p.op.args.get("item_id")
        out[p.op.ref] = ItemResult(p.op.ref, str(item_id) if item_id else None, False, error)
    return out
