"""/healthz: is the database reachable, and is the job queue alive?"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_queue() -> dict:
    """Queue depth and the age of the oldest queued task (django-q2 ORM broker)."""
    from django_q.models import OrmQ

    oldest = OrmQ.objects.order_by("lock", "id").values_list("lock", flat=True).first()
    return {
        "status": "ok",
        "queued": OrmQ.objects.count(),
        "oldest_lock": oldest.isoformat() if oldest else None,
    }


@require_GET
def healthz(request):
    body: dict = {"time": timezone.now().isoformat()}
    try:
        body["database"] = _check_database()
        body["queue"] = _check_queue()
    except DatabaseError:
        logger.warning("health.database.unreachable")
        body["database"] = "unreachable"
        return JsonResponse({**body, "status": "error"}, status=503)
    return JsonResponse({**body, "status": "ok"})
