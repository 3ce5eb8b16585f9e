"""Mapping screens: GL accounts and cost centers per division, their Monday values, bulk mapping
and CSV import/export. Every change goes through mappings.services (audited)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import Exists, OuterRef
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from integrations.models import Route
from integrations.sync.wording import plural
from mappings import services, values
from mappings.models import CostCenter, GLAccount, ValueMapping


class MappedChangeList(ChangeList):
    """Attach each row's mappings (route -> value) with one query for the whole page."""

    def get_results(self, request):
        super().get_results(request)
        kind = self.model_admin.mapping_kind
        rows = list(self.result_list)
        mappings = ValueMapping.objects.filter(
            kind=kind,
            division_id__in={r.division_id for r in rows},
            code__in={r.code for r in rows},
        ).select_related("route")
        by_key: dict = {}
        for m in mappings:
            by_key.setdefault((m.division_id, m.code), []).append((m.route.name, m.monday_value))
        usage = services.code_usage(kind, rows)
        for row in rows:
            row.mapped = by_key.get((row.division_id, row.code), [])
            row.items_using, row.flagged_by = usage.get((row.division_id, row.code), (0, 0))


class UnmappedFilter(admin.SimpleListFilter):
    title = "mapping"
    parameter_name = "mapped"

    def lookups(self, request, model_admin):
        return [("no", "Unmapped"), ("yes", "Mapped")]

    def queryset(self, request, queryset):
        mapped = ValueMapping.objects.filter(
            kind=self.model_admin_kind, division=OuterRef("division"), code=OuterRef("code")
        )
        if self.value() == "no":
            return queryset.exclude(Exists(mapped))
        if self.value() == "yes":
            return queryset.filter(Exists(mapped))
        return queryset


class BulkMapForm(forms.Form):
    route = forms.ModelChoiceField(queryset=Route.objects.none())
    monday_value = forms.CharField(max_length=255, label="Monday.com value")


class ReferenceAdmin(admin.ModelAdmin):
    """Shared by GL accounts and cost centers: read-only rows from Exact, mapped here."""

    mapping_kind = ""
    list_display = [
        "code",
        "description",
        "division",
        "active",
        "mapped_to",
        "items_using",
        "flagged_by",
    ]
    list_filter = ["active", "division"]
    search_fields = ["code", "description"]
    list_select_related = ["division"]
    actions = ["bulk_map", "export_mappings_csv"]

    def get_list_filter(self, request):
        kind = self.mapping_kind
        unmapped = type("Unmapped", (UnmappedFilter,), {"model_admin_kind": kind})
        return [unmapped, *self.list_filter]

    def get_changelist(self, request, **kwargs):
        return MappedChangeList

    def has_add_permission(self, request):
        return False  # loaded from Exact Online only

    def has_delete_permission(self, request, obj=None):
        return False  # disappeared ones are marked inactive, never deleted

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.display(description="Monday.com value per route")
    def mapped_to(self, obj):
        pairs = getattr(obj, "mapped", [])
        return format_html_join("", "<div>{}: <b>{}</b></div>", pairs) if pairs else "—"

    @admin.display(description="Items using it")
    def items_using(self, obj):
        return getattr(obj, "items_using", 0)

    @admin.display(description="Flagged because of it")
    def flagged_by(self, obj):
        return getattr(obj, "flagged_by", 0)

    def _value_field(self, form: BulkMapForm, routes: list[Route]) -> list[str]:
        """Offer the board column's values: a select when one route's column takes only its
        labels; otherwise a text box with the known values as suggestions. Returns these."""
        kind = self.mapping_kind
        if len(routes) == 1:
            form.fields["route"].initial = routes[0].pk
            allowed = values.column_values(routes[0], kind)
            if allowed and allowed.closed:
                form.fields["monday_value"] = forms.ChoiceField(
                    label=f"{allowed.column_title} label",
                    choices=[("", "Choose a label…"), *((v, v) for v in allowed.values)],
                )
                return list(allowed.values)
        found: list[str] = []
        for route in routes:
            allowed = values.column_values(route, kind)
            found += [v for v in (allowed.values if allowed else ()) if v not in found]
        form.fields["monday_value"].widget.attrs.update(list="monday-values")
        return found

    @admin.action(description="Map selected codes to one Monday.com value…")
    def bulk_map(self, request, queryset):
        divisions = {row.division_id for row in queryset}
        form = BulkMapForm(request.POST if "apply" in request.POST else None)
        routes = list(Route.objects.filter(divisions__in=divisions).distinct())
        form.fields["route"].queryset = Route.objects.filter(pk__in=[r.pk for r in routes])
        suggestions = self._value_field(form, routes)
        if "apply" in request.POST and form.is_valid():
            route = form.cleaned_data["route"]
            problem = values.check_value(
                route, self.mapping_kind, form.cleaned_data["monday_value"]
            )
            if problem:
                form.add_error("monday_value", problem)
        if "apply" in request.POST and form.is_valid():
            affected = 0
            for division_id in divisions:
                rows = [r for r in queryset if r.division_id == division_id]
                affected += services.set_mappings(
                    form.cleaned_data["route"],
                    rows[0].division,
                    self.mapping_kind,
                    [r.code for r in rows],
                    form.cleaned_data["monday_value"],
                    user=request.user,
                )
            count = queryset.count()
            self.message_user(
                request,
                format_html(
                    'Mapped {} to “{}”. {} use {}: re-sync them from the <a href="{}">review '
                    "queue</a>.",
                    f"{count} code{'' if count == 1 else 's'}",
                    form.cleaned_data["monday_value"],
                    f"{affected} synced item{'' if affected == 1 else 's'}",
                    "it" if count == 1 else "them",
                    reverse("admin:review_queue"),
                ),
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Map to one Monday.com value",
            "form": form,
            "suggestions": suggestions,
            "queryset": queryset,
            "opts": self.model._meta,
            "action": "bulk_map",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/mappings/bulk_map.html", context)

    @admin.action(description="Export the mappings of selected codes as CSV")
    def export_mappings_csv(self, request, queryset):
        mappings = ValueMapping.objects.filter(
            kind=self.mapping_kind,
            division_id__in=queryset.values("division_id"),
            code__in=queryset.values("code"),
        )
        response = HttpResponse(services.export_csv(mappings), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{self.mapping_kind}-mappings.csv"'
        return response


@admin.register(GLAccount)
class GLAccountAdmin(ReferenceAdmin):
    mapping_kind = ValueMapping.Kind.GL_ACCOUNT


@admin.register(CostCenter)
class CostCenterAdmin(ReferenceAdmin):
    mapping_kind = ValueMapping.Kind.COST_CENTER
    list_display = [*ReferenceAdmin.list_display, "end_date"]


class CsvUploadForm(forms.Form):
    file = forms.FileField(help_text="Columns: route,division,kind,code,monday_value")


@admin.register(ValueMapping)
class ValueMappingAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "monday_value", "route", "division", "updated_by", "updated_at"]
    list_filter = ["kind", "route", "division"]
    search_fields = ["code", "monday_value"]
    list_select_related = ["route", "division", "updated_by"]
    fields = ["route", "division", "kind", "code", "monday_value"]
    actions = ["export_csv"]
    change_list_template = "admin/mappings/valuemapping/change_list.html"

    def save_model(self, request, obj, form, change):
        affected = services.set_mappings(
            obj.route, obj.division, obj.kind, [obj.code], obj.monday_value, user=request.user
        )
        obj.pk = ValueMapping.objects.get(
            route=obj.route, division=obj.division, kind=obj.kind, code=obj.code
        ).pk
        self.message_user(
            request,
            f"{plural(affected, 'synced item uses', 'synced items use')} {obj.code}; re-sync them from the review queue.",
            messages.INFO,
        )

    def delete_model(self, request, obj):
        services.delete_mapping(obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            services.delete_mapping(obj, user=request.user)

    @admin.action(description="Export selected mappings as CSV")
    def export_csv(self, request, queryset):
        response = HttpResponse(services.export_csv(queryset), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="mappings.csv"'
        return response

    def get_urls(self):
        extra = [
            path(
                "import-csv/",
                self.admin_site.admin_view(self.import_csv),
                name="mappings_import_csv",
            )
        ]
        return extra + super().get_urls()

    def import_csv(self, request):
        if not self.has_change_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        form = CsvUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                text = form.cleaned_data["file"].read().decode("utf-8-sig")
                count = services.import_csv(text, user=request.user)
            except (services.CsvImportError, UnicodeDecodeError) as exc:
                self.message_user(request, f"Nothing imported: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request, f"Imported {plural(count, 'mapping', 'mappings')}.", messages.SUCCESS
                )
                return HttpResponseRedirect(reverse("admin:mappings_valuemapping_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Import mappings (CSV)",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/mappings/import_csv.html", context)
