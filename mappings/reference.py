"""Service: load GL accounts and cost centers of a division from Exact into `mappings`.

Upsert by Exact id; ones that are no longer in Exact are marked inactive, never deleted (value
mappings and flagged items may still point at them). Cost centers have no sync or deleted feed
(reference §5.5), so the whole small list is re-read and "missing" means gone. The two lists
are read independently: a failure of one never skips the other; what was read is written and
the failure is raised (ReferenceDataIncomplete), never swallowed.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

import audit
from integrations.errors import IntegrationError, plain_action, plain_reason
from integrations.exact.connections import for_connection
from integrations.models import ConnectionStatus, ExactDivision
from mappings.models import CostCenter, GLAccount

logger = logging.getLogger(__name__)

# key in counts/failures → (client method, words for admins)
LISTS = {
    "gl_accounts": ("list_gl_accounts", "the GL accounts"),
    "cost_centers": ("list_cost_centers", "the cost centers"),
}


class ReferenceDataIncomplete(IntegrationError):
    """One or both lists of a division could not be read; the others were written.

    `failures` maps a LISTS key to its IntegrationError; `counts` is what was written.
    `message` and `hint` are the admin's words (failure_message)."""

    def __init__(self, division: ExactDivision, counts: dict, failures: dict):
        message, hint = failure_message([(division, key, exc) for key, exc in failures.items()])
        super().__init__(
            message, hint=hint, retryable=all(exc.retryable for exc in failures.values())
        )
        self.division, self.counts, self.failures = division, counts, failures


def refresh_reference_data(division: ExactDivision, *, client=None, actor="system") -> dict:
    """Refresh one division's GL accounts and cost centers. Idempotent.

    Returns {"gl_accounts": n, "cost_centers": n, "deactivated": n}. Each list is read on its
    own and written only when it was read in full. When a read fails (RateLimited when the
    daily budget is low: this is low-priority work), the other list is still read and
    written, then ReferenceDataIncomplete is raised naming what failed.
    """
    client = client or for_connection(division.connection)
    read, failures = {}, {}
    for key, (method, _) in LISTS.items():
        try:
            read[key] = getattr(client, method)(division.code)
        except IntegrationError as exc:
            logger.warning(
                "mappings.reference.read_failed",
                extra={
                    "division": division.code,
                    "list": key,
                    "error": type(exc).__name__,
                    "detail": exc.message,  # Exact's own text; admins get plain words
                },
            )
            failures[key] = exc
    counts = _write(division, read, actor=actor, failed=sorted(failures))
    if failures:
        raise ReferenceDataIncomplete(division, counts, failures)
    return counts


def _write(division: ExactDivision, read: dict, *, actor, failed: list[str]) -> dict:
    today = timezone.localdate()
    counts: dict = {}
    deactivated = 0
    with transaction.atomic():
        if "gl_accounts" in read:
            deactivated += _upsert(
                GLAccount,
                division,
                {
                    str(item.id): {
                        "code": item.code[:40],
                        "description": item.description[:255],
                        "active": not item.is_blocked,
                    }
                    for item in read["gl_accounts"]
                },
            )
            counts["gl_accounts"] = len(read["gl_accounts"])
        if "cost_centers" in read:
            deactivated += _upsert(
                CostCenter,
                division,
                {
                    str(item.id): {
                        "code": item.code[:40],
                        "description": item.description[:255],
                        "end_date": item.end_date,
                        "active": item.end_date is None or item.end_date > today,
                    }
                    for item in read["cost_centers"]
                },
            )
            counts["cost_centers"] = len(read["cost_centers"])
        counts["deactivated"] = deactivated
        if read:
            after = {**counts, "failed": failed} if failed else counts
            audit.record(
                "mappings.reference_refreshed",
                actor=actor,
                obj=division,
                division=division.code,
                after=after,
            )
    return counts


def failure_message(failures: list[tuple[ExactDivision, str, IntegrationError]]) -> tuple[str, str]:
    """One message for failed reads over any number of divisions: (what failed and why,
    what to do). Reads that failed for the same reason are named together."""
    by_reason: dict[str, dict[int, list[str]]] = {}
    divisions: dict[int, ExactDivision] = {}
    actions: list[str] = []
    for division, key, exc in failures:
        divisions[division.code] = division
        lists = by_reason.setdefault(plain_reason(exc), {}).setdefault(division.code, [])
        if key not in lists:
            lists.append(key)
        action = plain_action(exc)
        if action not in actions:
            actions.append(action)
    parts = []  # (what, reason)
    for reason, per_division in by_reason.items():
        groups: dict[tuple[str, ...], list[int]] = {}
        for code, keys in per_division.items():
            ordered = tuple(k for k in LISTS if k in keys)
            groups.setdefault(ordered, []).append(code)
        for keys, codes in groups.items():
            lists = " and ".join(LISTS[k][1] for k in keys)
            parts.append((f"{lists} of {_divisions_text([divisions[c] for c in codes])}", reason))
    if len(by_reason) == 1:
        what = "; ".join(p for p, _ in parts)
        message = f"Could not read {what} from Exact Online: {parts[0][1]}."
    else:
        what = "; ".join(f"{p} ({r})" for p, r in parts)
        message = f"Could not read from Exact Online: {what}."
    return message, " ".join(actions)


def _divisions_text(divisions: list[ExactDivision]) -> str:
    names = [f"{d.code} ({d.name})" if d.name else str(d.code) for d in divisions]
    if len(names) == 1:
        return f"division {names[0]}"
    return f"divisions {', '.join(names[:-1])} and {names[-1]}"


def _upsert(model, division: ExactDivision, rows: dict[str, dict]) -> int:
    """Upsert rows by Exact id; mark the active ones Exact no longer has inactive (never delete).
    Returns how many were deactivated."""
    for exact_id, fields in rows.items():
        model.objects.update_or_create(division=division, exact_id=exact_id, defaults=fields)
    return (
        model.objects.filter(division=division, active=True)
        .exclude(exact_id__in=rows)
        .update(active=False)
    )


def refresh_all_reference_data() -> int:
    """Refresh every selected division of every connected connection (scheduled daily).
    Connections that need re-authorization are skipped. A failed list is logged (what was read
    is written) and the next division still runs. Returns the divisions refreshed in full."""
    refreshed = 0
    divisions = ExactDivision.objects.filter(
        selected=True, connection__status=ConnectionStatus.CONNECTED
    ).select_related("connection")
    for division in divisions:
        try:
            refresh_reference_data(division)
        except IntegrationError as exc:
            failed = sorted(getattr(exc, "failures", {})) or ["gl_accounts", "cost_centers"]
            logger.warning(
                "mappings.reference.refresh_failed",
                extra={"division": division.code, "lists": failed, "error": type(exc).__name__},
            )
            continue
        refreshed += 1
    return refreshed
