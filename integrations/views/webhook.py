"""POST /webhooks/exact/: verify the HashCode, store the event once, answer at once.

A plain Django view, not a DRF one: the signature is the authentication (no session, no CSRF,
no DRF authentication, negotiation or renderers), and at 200 webhooks a second every
millisecond of CPU spent answering is taken from the webhooks waiting behind it.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

import audit
from integrations.exact import webhooks
from integrations.sync import inbox

logger = logging.getLogger(__name__)


@method_decorator(csrf_exempt, name="dispatch")
class ExactWebhookView(View):
    http_method_names = ["post"]

    def post(self, request):
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.WEBHOOK_MAX_BODY_BYTES:
            logger.warning("exact.webhook.too_large", extra={"bytes": length})
            return JsonResponse({"error": "Body too large."}, status=413)
        body = request.body  # raw bytes: the HashCode is computed over them as sent
        if not body.strip():
            # Reference: exact-online.md §7.2: Exact validates a new subscription with an empty
            # POST and expects 2xx. Nothing is stored or queued.
            return JsonResponse({"status": "ok"})
        secret = webhooks.accepted_secret(
            settings.EXACT_WEBHOOK_SECRET,
            requested_mode=settings.INTEGRATIONS_MODE_REQUESTED,
            mode=settings.INTEGRATIONS_MODE,
        )
        if settings.EXACT_WEBHOOK_SECRET and not secret:
            logger.warning("exact.webhook.public_sandbox_secret_refused")
        try:
            content = webhooks.verify(body, secret)
        except webhooks.InvalidSignature:
            logger.warning("exact.webhook.bad_signature", extra={"bytes": len(body)})
            audit.record("webhook.rejected", actor="webhook", message="Bad or missing HashCode.")
            return JsonResponse({"error": "Invalid signature."}, status=401)
        try:
            notification = webhooks.parse(content)
        except webhooks.MalformedPayload as exc:
            logger.warning("exact.webhook.malformed", extra={"reason": str(exc)})
            audit.record("webhook.rejected", actor="webhook", message=str(exc))
            return JsonResponse({"error": str(exc)}, status=400)
        event, created = inbox.receive_webhook_event(
            notification,
            raw_body=body.decode("utf-8", "replace"),
            client_id=settings.EXACT_CLIENT_ID,
        )
        return JsonResponse({"status": event.state if created else "duplicate", "event": event.pk})
