"""Service: load GL accounts and cost centers of a division from Exact into `mappings`.

Upsert by Exact id; ones that are no longer in Exact are marked inactive, never deleted (value
mappings and flagged items may still point at them). Cost centers have no sync or deleted feed
(reference §5.5), so the whole small list is re-read and "missing" means gone.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

import audit
from integrations.errors import IntegrationError
from integrations.exact.client import for_connection
from integrations.models import ConnectionStatus, ExactDivision
from mappings.models import CostCenter, GLAccount

logger = logging.getLogger(__name__)


def refresh_reference_data(division: ExactDivision, *, client=None, actor="system") -> dict:
    """Refresh one division's GL accounts and cost centers. Idempotent.

    Returns {"gl_accounts": n, "cost_centers": n, "deactivated": n}. Raises the
    IntegrationError hierarchy (RateLimited when the daily budget is low: this is low-priority
    work). Both lists are read before anything is written.
    """
    client = client or for_connection(division.connection)
    gl_accounts = client.list_gl_accounts(division.code)
    cost_centers = client.list_cost_centers(division.code)
    today = timezone.localdate()
    with transaction.atomic():
        deactivated = _upsert(
            GLAccount,
            division,
            {
                str(item.id): {
                    "code": item.code[:40],
                    "description": item.description[:255],
                    "active": not item.is_blocked,
                }
                for item in gl_accounts
            },
        )
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
                for item in cost_centers
            },
        )
        counts = {
            "gl_accounts": len(gl_accounts),
            "cost_centers": len(cost_centers),
            "deactivated": deactivated,
        }
        audit.record(
            "mappings.reference_refreshed",
            actor=actor,
            obj=division,
            division=division.code,
            after=counts,
        )
    return counts


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
    Connections that need re-authorization are skipped. Returns the divisions refreshed."""
    refreshed = 0
    divisions = ExactDivision.objects.filter(
        selected=True, connection__status=ConnectionStatus.CONNECTED
    ).select_related("connection")
    for division in divisions:
        try:
            refresh_reference_data(division)
        except IntegrationError as exc:
            logger.warning(
                "mappings.reference.refresh_failed",
                extra={"division": division.code, "error": type(exc).__name__},
            )
            continue
        refreshed += 1
    return refreshed
