"""Read-only admin for the audit trail: in words, in local time, filterable, exportable as CSV."""

from __future__ import annotations

import csv

from django.contrib import admin
from django.db.models import Q
from django.http import HttpResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from audit import display, periods, scopes
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


class ActionFilter(admin.SimpleListFilter):
    """The actions present in the trail, listed by what they mean."""

    title = "what happened"
    parameter_name = "action"

    def lookups(self, request, model_admin):
        actions = AuditEvent.objects.order_by().values_list("action", flat=True).distinct()
        choices = [(a, display.action_words(a)) for a in actions]
        return sorted(choices, key=lambda c: c[1].lower())

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


class PeriodFilter(admin.SimpleListFilter):
    """Periods counted in local time (today starts at local midnight)."""

    title = "when"
    parameter_name = "period"

    def lookups(self, request, model_admin):
        return list(periods.PERIODS.items())

    def queryset(self, request, queryset):
        span = periods.datetime_range(self.value() or "")
        if span is None:
            return queryset
        return queryset.filter(created_at__gte=span[0], created_at__lt=span[1])


class UserFilter(admin.SimpleListFilter):
    title = "person"
    parameter_name = "user"

    def lookups(self, request, model_admin):
        from django.contrib.auth import get_user_model

        users = get_user_model().objects.filter(auditevent__isnull=False).distinct()
        return sorted(
            ((u.pk, u.get_full_name() or u.get_username()) for u in users), key=lambda c: c[1]
        )

    def queryset(self, request, queryset):
        return queryset.filter(actor_user_id=self.value()) if self.value() else queryset


class ObjectTypeFilter(admin.SimpleListFilter):
    """The kinds of record in the trail, by name ("Route", "Sales invoice item")."""

    title = "kind of record"
    parameter_name = "object_type"

    def lookups(self, request, model_admin):
        types = AuditEvent.objects.exclude(object_type="").order_by().values_list("object_type")
        choices = []
        for (object_type,) in types.distinct():
            choices += scopes.kinds(object_type) or [
                (object_type, display.object_kind(object_type))
            ]
        return sorted(choices, key=lambda c: c[1].lower())

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        condition = scopes.kind_events(self.value())
        return queryset.filter(condition if condition is not None else Q(object_type=self.value()))


class DivisionFilter(admin.SimpleListFilter):
    """Divisions by code and name; events of no division are not a choice of their own."""

    title = "division"
    parameter_name = "division"

    def lookups(self, request, model_admin):
        codes = AuditEvent.objects.filter(division__isnull=False).order_by("division")
        names = scopes.division_names()
        return [
            (str(code), f"{code} {names.get(code, '')}".strip())
            for code in codes.values_list("division", flat=True).distinct()
        ]

    def queryset(self, request, queryset):
        value = self.value() or ""
        return queryset.filter(division=int(value)) if value.isdigit() else queryset


class RouteFilter(admin.SimpleListFilter):
    """Events about a route and what belongs to it (its items, its mappings)."""

    title = "route"
    parameter_name = "route"

    def lookups(self, request, model_admin):
        return scopes.routes()

    def queryset(self, request, queryset):
        return queryset.filter(scopes.route_events(self.value())) if self.value() else queryset


class RecordFilter(admin.SimpleListFilter):
    """A text box: an Exact number or key, for every event about that document."""

    title = "document"
    parameter_name = "record"
    template = "admin/audit/record_filter.html"

    def __init__(self, request, params, model, model_admin):
        # The other filters and the search stay as they are when a number is typed here.
        self.kept = [
            (name, value)
            for name, values in request.GET.lists()
            for value in values
            if name not in (self.parameter_name, "p")
        ]
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return []

    def has_output(self):
        return True

    def choices(self, changelist):
        yield {
            "value": self.value() or "",
            "kept": self.kept,
        }

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return queryset.filter(scopes.record_events(value)) if value else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["when", "who", "what", "about", "division_code", "summary"]
    list_display_links = ["when"]
    list_filter = [
        RecordFilter,
        ActionFilter,
        PeriodFilter,
        UserFilter,
        RouteFilter,
        ObjectTypeFilter,
        DivisionFilter,
    ]
    search_fields = ["object_id", "object_repr", "correlation_id", "actor", "message"]
    list_select_related = ["actor_user"]
    actions = ["export_csv"]
    fields = [
        "when",
        "who",
        "what",
        "about",
        "kind",
        "object_id",
        "division",
        "summary",
        "changes",
        "correlation_id",
        "internal_name",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="When", ordering="created_at")
    def when(self, event):
        # Date and time each on one line: broken over four lines the trail is hard to scan.
        day, _, time = display.when(event.created_at).partition(", ")
        return format_html(
            '<span style="white-space:nowrap">{}</span> <span style="white-space:nowrap">{}</span>',
            day,
            time,
        )

    @admin.display(description="Who", ordering="actor")
    def who(self, event):
        return display.actor_words(event)

    @admin.display(description="What happened", ordering="action")
    def what(self, event):
        return display.action_words(event.action)

    @admin.display(description="About", ordering="object_repr")
    def about(self, event):
        return event.object_repr or "—"

    @admin.display(description="Division", ordering="division", empty_value="")
    def division_code(self, event):
        return event.division  # blank, not "-", for events that concern no division

    @admin.display(description="Kind of record", ordering="object_type")
    def kind(self, event):
        return display.object_kind(event.object_type)

    @admin.display(description="Internal name", ordering="action")
    def internal_name(self, event):
        return event.action

    @admin.display(description="Details", empty_value="")
    def summary(self, event):
        return display.message_words(event.message)

    @admin.display(description="What changed")
    def changes(self, event):
        lines = display.change_lines(event.before, event.after)
        if not lines:
            return "—"
        return format_html(
            '<ul class="audit-changes" style="margin:0;padding:0;list-style:none">{}</ul>',
            format_html_join("", "<li>{}</li>", ((x,) for x in lines)),
        )

    @admin.action(description="Export selected events as CSV")
    def export_csv(self, request, queryset):
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
        writer = csv.writer(response)
        writer.writerow([*CSV_FIELDS, "what_happened", "who"])
        for event in queryset.select_related("actor_user").iterator():
            row = [getattr(event, f) for f in CSV_FIELDS]
            row[0] = timezone.localtime(event.created_at).isoformat()  # local, offset shown
            writer.writerow([*row, display.action_words(event.action), display.actor_words(event)])
        return response
