"""Admin for the integrations app. Each area lives in its own module, registered on import."""

# Exact Online connections are registered below this line (ExactConnectionAdmin).

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from integrations.errors import IntegrationError, plain_action, plain_reason
from integrations.exact import connections
from integrations.models import ConnectionStatus, ExactConnection, ExactDivision


class ExactDivisionInline(admin.TabularInline):
    model = ExactDivision
    fields = ("code", "name", "currency", "division_move_date", "selected")
    readonly_fields = ("code", "name", "currency", "division_move_date")
    extra = 0
    can_delete = False
    verbose_name_plural = "Divisions (tick the ones to synchronise)"

    def has_add_permission(self, request, obj=None):
        return False  # divisions come from Exact at connect time


@admin.register(ExactConnection)
class ExactConnectionAdmin(admin.ModelAdmin):
    """Connections are made with "Connect Exact Online" (OAuth), never typed in. Tokens are
    not fields here: EncryptedTextField is never editable and never displayed."""

    # No current division, token expiry or API host here: every call names its division, and
    # tokens refresh by themselves; what an admin checks is who signed in and what is synced.
    list_display = (
        "name",
        "region",
        "status_badge",
        "signed_in_as",
        "divisions_synced",
        "refreshed_at",
    )
    list_filter = ("status", "region")
    fields = (
        "name",
        "region",
        "status",
        "signed_in_as",
        "refreshed_at",
        "status_changed_at",
        "last_error",
        "connected_by",
        "created_at",
    )
    readonly_fields = tuple(f for f in fields if f != "name")
    inlines = [ExactDivisionInline]

    def has_add_permission(self, request):
        return False  # the Connect button starts the OAuth flow instead

    @admin.display(description="Signed in as", ordering="exact_user_name")
    def signed_in_as(self, obj: ExactConnection):
        return obj.exact_user_name or "—"

    @admin.display(description="Divisions synced")
    def divisions_synced(self, obj: ExactConnection):
        divisions = list(obj.divisions.values_list("selected", flat=True))
        return f"{sum(divisions)} of {len(divisions)}"

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: ExactConnection):
        colour = {
            ConnectionStatus.CONNECTED: "#2e7d32",
            ConnectionStatus.NEEDS_REAUTH: "#c62828",
        }.get(obj.status, "#666")
        return format_html('<strong style="color:{}">{}</strong>', colour, obj.get_status_display())

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/test/",
                wrap(self.test_connection_view),
                name="integrations_exactconnection_test",
            ),
            path(
                "<int:pk>/refresh-reference/",
                wrap(self.refresh_reference_view),
                name="integrations_exactconnection_refresh_reference",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context["connect_url"] = reverse("exact-oauth-start")
        extra_context["regions"] = ExactConnection.Region.choices
        extra_context["can_connect"] = request.user.has_perm("integrations.change_exactconnection")
        return super().changelist_view(request, extra_context=extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        conn = self.get_object(request, object_id)
        if conn is not None:
            extra_context.update(
                needs_reauth=conn.status == ConnectionStatus.NEEDS_REAUTH,
                reauth_url=f"{reverse('exact-oauth-start')}?connection={conn.pk}",
                test_url=reverse("admin:integrations_exactconnection_test", args=[conn.pk]),
                reference_url=reverse(
                    "admin:integrations_exactconnection_refresh_reference", args=[conn.pk]
                ),
                idle_warning=connections.idle_warning(conn),
            )
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def _connection_for_action(self, request, pk: int) -> ExactConnection:
        conn = get_object_or_404(ExactConnection, pk=pk)
        if not self.has_change_permission(request, conn):
            raise PermissionDenied
        return conn

    @staticmethod
    def _back(pk: int):
        return redirect(reverse("admin:integrations_exactconnection_change", args=[pk]))

    def test_connection_view(self, request, pk: int):
        return require_POST(self._test_connection)(request, pk)

    def _test_connection(self, request, pk: int):
        conn = self._connection_for_action(request, pk)
        try:
            result = connections.test_exact_connection(conn)
        except IntegrationError as exc:
            # What failed and what to do, in words; Exact's own sentence goes to the log only.
            messages.error(
                request, f"Test failed: {plain_reason(exc)}. {plain_action(exc)}".strip()
            )
            return self._back(pk)
        expiry = result["token_expires_at"]
        expiry_text = timezone.localtime(expiry).strftime("%Y-%m-%d %H:%M:%S") if expiry else "?"
        messages.success(
            request,
            f"Connection works. User: {result['user']}. Current division: {result['division']} "
            f"{result['division_name']}. Access token valid until {expiry_text}. "
            f"Remaining rate limit: {_limits_text(result['rate_limits'])}.",
        )
        return self._back(pk)

    def refresh_reference_view(self, request, pk: int):
        return require_POST(self._refresh_reference)(request, pk)

    def _refresh_reference(self, request, pk: int):
        from mappings.reference import (
            LISTS,
            ReferenceDataIncomplete,
            failure_message,
            refresh_reference_data,
        )

        conn = self._connection_for_action(request, pk)
        done, failures = [], []
        for division in conn.divisions.filter(selected=True).order_by("code"):
            try:
                counts = refresh_reference_data(division, actor=request.user)
            except ReferenceDataIncomplete as exc:
                counts = exc.counts
                failures += [(division, key, error) for key, error in exc.failures.items()]
            except IntegrationError as exc:
                failures += [(division, key, exc) for key in LISTS]
                continue
            if "gl_accounts" in counts or "cost_centers" in counts:
                done.append(f"{division.code}: {_counts_text(counts)}")
        if done:
            messages.success(request, "Reference data refreshed. " + "; ".join(done) + ".")
        if failures:
            # One message for every division: what failed and what to do (never Exact's text).
            messages.error(request, " ".join(failure_message(failures)))
        elif not done:
            messages.warning(request, "No division is selected for synchronisation.")
        return self._back(pk)


_LIST_NAMES = {
    "gl_accounts": ("GL account", "GL accounts"),
    "cost_centers": ("cost center", "cost centers"),
}


def _counts_text(counts: dict) -> str:
    """ "2 GL accounts, 1 cost center", naming a list that could not be read."""
    read = [
        f"{counts[key]} {one if counts[key] == 1 else many}"
        for key, (one, many) in _LIST_NAMES.items()
        if key in counts
    ]
    missing = [many for key, (_, many) in _LIST_NAMES.items() if key not in counts]
    return ", ".join(read) + (f" ({' and '.join(missing)} not read)" if missing else "")


def _limits_text(limits: list[dict]) -> str:
    parts = []
    for item in limits:
        if item.get("minutely_remaining") is None and item.get("daily_remaining") is None:
            parts.append(f"division {item['division']}: not measured yet")
            continue
        minute = item.get("minutely_remaining")
        day = item.get("daily_remaining")
        parts.append(
            f"division {item['division']}: "
            f"{'?' if minute is None else minute}/{item.get('minutely_limit')} this minute, "
            f"{'?' if day is None else day}/{item.get('daily_limit')} today"
        )
    return "; ".join(parts) or "no division selected"
