"""/healthz: database reachable, a worker alive, no connection waiting for re-authorization?"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from integrations.sync.health import connections_check, queue_depth, worker_check

logger = logging.getLogger(__name__)


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


@require_GET
def healthz(request):
    """200 when every check is ok, else 503; `failed` names each failed check and says why.
    Public: statuses, counts, times and ids only, never names, tokens or raw errors."""
    body: dict = {"time": timezone.now().isoformat()}
    try:
        body["database"] = _check_database()
        body["queue"] = queue_depth()
        body["worker"] = worker_check()
        body["connections"] = connections_check()
    except DatabaseError:
        logger.warning("health.database.unreachable")
        body["database"] = "unreachable"
        failed = {"database": "The database is unreachable: check DATABASE_URL and the server."}
        return JsonResponse({**body, "status": "error", "failed": failed}, status=503)
    failed = {
        name: body[name]["message"]
        for name in ("queue", "worker", "connections")
        if body[name]["status"] not in ("ok", "starting")
    }
    status = 503 if failed else 200
    return JsonResponse(
        {**body, "status": "error" if failed else "ok", "failed": failed}, status=status
    )
