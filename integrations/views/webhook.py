"""POST /webhooks/exact/: verify the HashCode, store the event once, answer at once."""

from __future__ import annotations

import logging

from django.conf import settings
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

import audit
from integrations.exact import webhooks
from integrations.sync import inbox

logger = logging.getLogger(__name__)


class ExactWebhookView(APIView):
    # The signature is the authentication: no session, no CSRF, no DRF auth classes.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def post(self, request):
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > settings.WEBHOOK_MAX_BODY_BYTES:
            logger.warning("exact.webhook.too_large", extra={"bytes": length})
            return Response({"error": "Body too large."}, status=413)
        body = request.body  # raw bytes, read before anything parses the stream
        if not body.strip():
            # Reference: exact-online.md §7.2: Exact validates a new subscription with an empty
            # POST and expects 2xx. Nothing is stored or queued.
            return Response({"status": "ok"})
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
            return Response({"error": "Invalid signature."}, status=401)
        try:
            notification = webhooks.parse(content)
        except webhooks.MalformedPayload as exc:
            logger.warning("exact.webhook.malformed", extra={"reason": str(exc)})
            audit.record("webhook.rejected", actor="webhook", message=str(exc))
            return Response({"error": str(exc)}, status=400)
        event, created = inbox.receive_webhook_event(
            notification,
            raw_body=body.decode("utf-8", "replace"),
            client_id=settings.EXACT_CLIENT_ID,
        )
        return Response({"status": event.state if created else "duplicate", "event": event.pk})
