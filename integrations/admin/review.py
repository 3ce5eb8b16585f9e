"""Admin views of the review queue: fix a missing mapping and re-sync, bulk re-sync, retry."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from integrations.models import ExactDivision, SyncedRecord, WebhookEvent
from integrations.sync import inbox, review
from mappings import services as mapping_services


class ReviewQueueMixin:
    """Mixed into SyncedRecordAdmin: /admin/integrations/syncedrecord/review/ and its POSTs."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("review/", view(self.review_queue), name="review_queue"),
            path(
                "review/fix/<int:pk>/", view(require_POST(self.fix_and_resync)), name="review_fix"
            ),
            path(
                "review/resync-unblocked/",
                view(require_POST(self.resync_unblocked)),
                name="review_resync_unblocked",
            ),
            path(
                "review/retry/<int:pk>/", view(require_POST(self.retry_event)), name="review_retry"
            ),
        ] + super().get_urls()

    def _require(self, request, perm: str) -> None:
        if not request.user.has_perm(perm):
            raise PermissionDenied

    def review_queue(self, request):
        self._require(request, "integrations.view_syncedrecord")
        context = {
            **self.admin_site.each_context(request),
            "title": "Review queue",
            "rows": review.review_rows(),
            "dead_events": review.dead_events(),
            "unblocked": mapping_services.unblocked_records().count(),
            "opts": SyncedRecord._meta,
        }
        return TemplateResponse(request, "admin/integrations/review_queue.html", context)

    def fix_and_resync(self, request, pk: int):
        self._require(request, "mappings.add_valuemapping")
        rec = get_object_or_404(SyncedRecord, pk=pk)
        division = get_object_or_404(
            ExactDivision, connection=rec.route.exact_connection, code=rec.division
        )
        for kind in mapping_services.SNAPSHOT_KEYS:
            value = request.POST.get(f"{kind}_value", "").strip()
            code = (rec.snapshot or {}).get(mapping_services.SNAPSHOT_KEYS[kind])
            if value and code:
                mapping_services.set_mappings(
                    rec.route, division, kind, [code], value, user=request.user
                )
        self._resync(request, SyncedRecord.objects.filter(pk=rec.pk))
        return HttpResponseRedirect(reverse("admin:review_queue"))

    def resync_unblocked(self, request):
        self._require(request, "integrations.change_syncedrecord")
        self._resync(request, mapping_services.unblocked_records())
        return HttpResponseRedirect(reverse("admin:review_queue"))

    def retry_event(self, request, pk: int):
        self._require(request, "integrations.change_webhookevent")
        inbox.retry_event(get_object_or_404(WebhookEvent, pk=pk), user=request.user)
        self.message_user(request, "Event queued again.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:review_queue"))

    def _resync(self, request, queryset) -> None:
        from integrations import sync

        counts = sync.resync_records(queryset, user=request.user, correlation_id="admin:review")
        level = messages.WARNING if counts["failed"] or counts["flagged"] else messages.SUCCESS
        self.message_user(
            request,
            f"Re-synced {counts['synced']} item(s); {counts['flagged']} still flagged; "
            f"{counts['failed']} failed.",
            level,
        )
