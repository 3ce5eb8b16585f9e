"""Admin views of the review queue: fix a missing mapping and re-sync, bulk re-sync, retry."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from integrations.models import ExactDivision, SyncedRecord, WebhookEvent
from integrations.sync import job_queue, review
from mappings import services as mapping_services
from mappings import values as mapping_values


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


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
        filters = review.ReviewFilters.from_query(request.GET)
        rows = review.review_rows(filters)
        every = rows if filters == review.ReviewFilters() else review.review_rows()
        page = Paginator(rows, self.list_per_page).get_page(request.GET.get("p"))
        query = request.GET.copy()
        query.pop("p", None)
        context = {
            **self.admin_site.each_context(request),
            "title": "Review queue",
            "page": page,
            "rows": page.object_list,
            "total": len(rows),
            "all_flagged": len(every),
            "filters": filters,
            "choices": review.filter_choices(),
            "query": query.urlencode(),
            "here": request.get_full_path(),
            "dead_events": review.dead_events(),
            "ready": sum(1 for r in every if r.ready),
            "opts": SyncedRecord._meta,
        }
        return TemplateResponse(request, "admin/integrations/review_queue.html", context)

    def _back(self, request) -> HttpResponseRedirect:
        """Back to the queue page the reviewer came from (filters and page kept)."""
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("admin:review_queue")
        return HttpResponseRedirect(target or reverse("admin:review_queue"))

    def fix_and_resync(self, request, pk: int):
        self._require(request, "mappings.add_valuemapping")
        rec = get_object_or_404(SyncedRecord, pk=pk)
        division = get_object_or_404(
            ExactDivision, connection=rec.route.exact_connection, code=rec.division
        )
        # Check every value against the board first: nothing is written when one is refused.
        changes = []
        for kind in mapping_services.SNAPSHOT_KEYS:
            value = request.POST.get(f"{kind}_value", "").strip()
            code = (rec.snapshot or {}).get(mapping_services.SNAPSHOT_KEYS[kind])
            if not (value and code):
                continue
            allowed = mapping_values.column_values(rec.route, kind)
            problem = mapping_values.check_value(rec.route, kind, value, allowed=allowed)
            if problem:
                self.message_user(
                    request,
                    f"Nothing saved for {rec.exact_number or 'this item'}: {problem}",
                    messages.ERROR,
                )
                return self._back(request)
            changes.append((kind, code, mapping_values.board_spelling(value, allowed)))
        for kind, code, value in changes:
            mapping_services.set_mappings(
                rec.route, division, kind, [code], value, user=request.user
            )
        self._resync(request, SyncedRecord.objects.filter(pk=rec.pk))
        return self._back(request)

    def resync_unblocked(self, request):
        self._require(request, "integrations.change_syncedrecord")
        self._resync(request, review.ready_records())
        return self._back(request)

    def retry_event(self, request, pk: int):
        self._require(request, "integrations.change_webhookevent")
        job_queue.retry_event(get_object_or_404(WebhookEvent, pk=pk), user=request.user)
        self.message_user(request, "Event queued again.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:review_queue"))

    def _resync(self, request, queryset) -> None:
        from integrations import sync

        counts = sync.resync_records(queryset, user=request.user, correlation_id="admin:review")
        level = messages.WARNING if counts["failed"] or counts["flagged"] else messages.SUCCESS
        # records.resync_records counts a re-synced item as "synced" only when it is clean.
        done = counts["synced"] + counts["flagged"]
        text = f"Re-synced {_plural(done, 'item', 'items')}: {counts['synced']} cleared."
        if counts["flagged"]:
            text += f" {counts['flagged']} still flagged: see the reasons in the review queue."
        if counts["failed"]:
            text += (
                f" {_plural(counts['failed'], 'item', 'items')} could not be written;"
                " the error is shown on the record."
            )
        self.message_user(request, text, level)
