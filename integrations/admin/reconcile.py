"""Admin view of the reconciliation report for a route: differences, one-click and bulk fix."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from integrations.errors import IntegrationError
from integrations.models import Route
from integrations.sync import reconcile


class ReconcileMixin:
    """Mixed into RouteAdmin: /admin/integrations/route/<id>/reconcile/."""

    def get_urls(self):
        view = self.admin_site.admin_view(self.reconcile_view)
        return [path("<int:pk>/reconcile/", view, name="route_reconcile")] + super().get_urls()

    def reconcile_view(self, request, pk: int):
        if not request.user.has_perm("integrations.view_route"):
            raise PermissionDenied
        route = get_object_or_404(Route, pk=pk)
        divisions = list(route.divisions.order_by("code"))
        source = request.POST if request.method == "POST" else request.GET
        division = int(source.get("division") or (divisions[0].code if divisions else 0))
        since = date.fromisoformat(
            source.get("since") or str(timezone.localdate() - timedelta(days=90))
        )
        report, fixed = None, None
        try:
            report = reconcile.reconcile(route, division, since)
            if request.method == "POST":
                if not request.user.has_perm("integrations.change_syncedrecord"):
                    raise PermissionDenied
                keys = None if "fix_all" in request.POST else request.POST.getlist("key")
                fixed = reconcile.fix(report, keys=keys, user=request.user)
                report = reconcile.reconcile(route, division, since)
                self.message_user(request, f"Re-synced {fixed} difference(s).", messages.SUCCESS)
        except IntegrationError as exc:
            self.message_user(request, f"{exc.message} {exc.hint}", messages.ERROR)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Reconciliation: {route}",
            "route": route,
            "divisions": divisions,
            "division": division,
            "since": since,
            "report": report,
            "opts": Route._meta,
        }
        return TemplateResponse(request, "admin/integrations/reconcile.html", context)
