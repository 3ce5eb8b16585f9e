"""Sync progress in the admin: the panel on the route page (Sync now, Pause, Resume), the JSON
its script polls, and the JSON of the admin home's panel. Staff only (admin_view), and the
route's view permission to watch, its change permission to start, pause or resume."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from integrations.models import Route, SyncRun
from integrations.sync import runs
from integrations.sync.progress import count_words
from integrations.sync.run_status import run_status

# The admin home keeps a finished run's done message this long.
RECENT = timedelta(hours=2)


def _with_review_link(status: dict) -> dict:
    if status["flagged"]:
        singular, plural = status["nouns"]
        flagged = count_words(status["flagged"], singular, plural)
        status["review_url"] = reverse("admin:review_queue")
        status["review_label"] = f"Review the {flagged} flagged for review"
    return status


def route_progress(route: Route, *, can_change: bool) -> dict:
    latest = route.sync_runs.order_by("-created_at").first()
    status = _with_review_link(run_status(latest)) if latest else None
    urls = {
        name: reverse(f"admin:route_{name}", args=[route.pk])
        for name in ("progress", "sync_now", "pause", "resume")
    }
    return {"run": status, "can_change": can_change, **urls}


def home_progress() -> dict:
    """Open runs, and runs finished lately (their done message), newest first."""
    since = timezone.now() - RECENT
    shown = SyncRun.objects.select_related("route").filter(
        state__in=SyncRun.OPEN_STATES
    ) | SyncRun.objects.select_related("route").filter(finished_at__gte=since)
    latest_per_route: dict[int, SyncRun] = {}
    for run in shown.order_by("-created_at"):
        latest_per_route.setdefault(run.route_id, run)
    rows = []
    for run in latest_per_route.values():
        status = _with_review_link(run_status(run))
        status["route_url"] = reverse("admin:integrations_route_change", args=[run.route_id])
        rows.append(status)
    return {"runs": rows}


class SyncProgressMixin:
    """For RouteAdmin: `sync_progress` (a read-only field showing the panel) and its URLs."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/progress/", view(self.progress_view), name="route_progress"),
            path("<int:pk>/sync-now/", view(self.sync_now_view), name="route_sync_now"),
            path("<int:pk>/pause/", view(self.pause_view), name="route_pause"),
            path("<int:pk>/resume/", view(self.resume_view), name="route_resume"),
            path("progress/", view(self.home_progress_view), name="sync_progress"),
            *super().get_urls(),
        ]

    def _route(self, request, pk: int, *, change: bool) -> Route:
        route = get_object_or_404(Route, pk=pk)
        allowed = (
            self.has_change_permission(request, route)
            if change
            else self.has_view_permission(request, route)
        )
        if not allowed:
            raise PermissionDenied
        return route

    def progress_view(self, request, pk: int):
        route = self._route(request, pk, change=False)
        return JsonResponse(
            route_progress(route, can_change=self.has_change_permission(request, route))
        )

    def home_progress_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return JsonResponse(home_progress())

    def _act(self, request, pk: int, action):
        route = self._route(request, pk, change=True)
        action(route, request.user)
        return JsonResponse(route_progress(route, can_change=True))

    def sync_now_view(self, request, pk: int):
        return require_POST(self._act)(request, pk, lambda r, u: runs.start_run(r, user=u))

    def pause_view(self, request, pk: int):
        # Without an open run (it finished meanwhile) there is nothing to pause: the answer
        # shows the run as it is.
        return require_POST(self._act)(
            request, pk, lambda r, u: (run := runs.open_run(r)) and runs.request_pause(run, user=u)
        )

    def resume_view(self, request, pk: int):
        return require_POST(self._act)(
            request, pk, lambda r, u: (run := runs.open_run(r)) and runs.resume_run(run, user=u)
        )

    @admin.display(description="Progress")
    def sync_progress(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        # The read-only field gets no request: the change permission is checked again by the
        # POST views, and the script shows the buttons only when the JSON says it may.
        data = route_progress(obj, can_change=False)
        return render_to_string("admin/integrations/route/progress.html", {"data": data})


def started_message(routes: list[Route]):
    """ "Sync started for Sales invoices and Purchase orders: watch its progress on the route's
    page or the admin home." with a link per route."""
    from django.utils.html import format_html, format_html_join

    links = format_html_join(
        ", ",
        '<a href="{}">{}</a>',
        ((reverse("admin:integrations_route_change", args=[r.pk]), r.name) for r in routes),
    )
    where = (
        "its progress on the route's page"
        if len(routes) == 1
        else ("their progress on each route's page")
    )
    return format_html("Sync started for {}: watch {} or the admin home.", links, where)
