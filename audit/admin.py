"""Read-only admin for the audit trail, filterable and exportable as CSV."""

from __future__ import annotations

import csv

from django.contrib import admin
from django.http import HttpResponse

from audit.models import AuditEvent

CSV_FIELDS = [
    "created_at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "division",
    "message",
    "correlation_id",
    "before",
    "after",
]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "object_repr", "division", "correlation_id"]
    list_filter = ["action", "object_type", "division", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["object_id", "object_repr", "correlation_id", "actor", "message"]
    date_hierarchy = "created_at"
    list_select_related = ["actor_user"]
    actions = ["export_csv"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Export selected events as CSV")
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_FIELDS)
        for event in queryset.iterator():
            writer.writerow([getattr(event, f) for f in CSV_FIELDS])
        return response
