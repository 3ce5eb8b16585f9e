"""/metrics: the Prometheus text format, for a scraper holding METRICS_TOKEN or a staff member.

Without METRICS_TOKEN and without a staff login the endpoint does not exist (404); with a token
configured, a request without the right `Authorization: Bearer` gets 401. Every figure comes from
the database at scrape time (integrations/sync/metrics.py), so any web process answers for all.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from integrations.sync.metrics import DatabaseCollector


def _bearer(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _staff(request) -> bool:
    user = getattr(request, "user", None)
    if not (user and user.is_active and user.is_staff):
        return False
    # With a second factor required, a password-only session is not enough (as in the admin).
    return not settings.ADMIN_REQUIRE_2FA or user.is_verified()


@require_GET
def metrics(request):
    token = settings.METRICS_TOKEN
    if not _staff(request):
        if not token:
            raise Http404("Metrics are off: set METRICS_TOKEN.")
        if not constant_time_compare(_bearer(request), token):
            response = HttpResponse("A bearer token is required.\n", status=401)
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
