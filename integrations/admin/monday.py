"""Admin for Monday.com connections (connect, test, refresh boards) and the cached boards."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from integrations.errors import IntegrationError
from integrations.models import ConnectionStatus, MondayBoard, MondayConnection
from integrations.monday import connections as monday_connections
from integrations.monday.errors import MondayAuthError
from integrations.sync.wording import plural

STATUS_COLOURS = {
    ConnectionStatus.CONNECTED: "#2e7d32",
    ConnectionStatus.NEEDS_REAUTH: "#c62828",
    ConnectionStatus.NOT_CONNECTED: "#757575",
}


class MondayConnectionForm(forms.ModelForm):
    """Name + a personal API token, validated with `me` when the form is cleaned."""

    token = forms.CharField(
        label="Personal API token",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="Monday.com → your avatar → Developers → My access tokens. "
        "Checked at once; stored encrypted; never shown again. Leave empty to keep the current one.",
    )
    request_user = None  # set by the admin

    class Meta:
        model = MondayConnection
        fields = ["name"]

    def clean(self):
        cleaned = super().clean()
        token = cleaned.get("token", "")
        if not self.instance.pk and not token:
            self.add_error("token", "Paste a personal API token, or use “Connect with OAuth”.")
        if token and not self.errors:
            try:
                monday_connections.connect_monday_token(
                    user=self.request_user,
                    name=cleaned.get("name", ""),
                    token=token,
                    connection=self.instance,
                )
            except MondayAuthError as err:
                # The token itself was refused: say so on the field that holds it.
                self.add_error(
                    "token",
                    f"Monday.com did not accept this token (it said: “{err}”). Copy it again "
                    "from Monday.com → your avatar → Developers → My access tokens, and paste "
                    "it here.",
                )
            except IntegrationError as err:
                raise forms.ValidationError(str(err)) from err
        return cleaned


@admin.register(MondayConnection)
class MondayConnectionAdmin(admin.ModelAdmin):
    form = MondayConnectionForm
    list_display = [
        "name",
        "status_badge",
        "signed_in_with",
        "account_name",
        "user_name",
        "attention",
        "budget",
        "last_checked_at",
    ]
    list_filter = ["status", "auth_kind"]
    search_fields = ["name", "account_name", "user_name"]
    readonly_fields = [
        "status_badge",
        "attention",
        "signed_in_with",
        "account_name",
        "user_name",
        "user_email",
        "budget",
        "last_checked_at",
        "connected_by",
        "oauth_link",
    ]
    actions = ["test_connection", "refresh_boards"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "token", "oauth_link"]
        return ["name", "token", *self.readonly_fields]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def save_model(self, request, obj, form, change):
        # The service saved (and audited) the connection while validating the token.
        if form.cleaned_data.get("token"):
            return
        super().save_model(request, obj, form, change)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        colour = STATUS_COLOURS.get(obj.status, "#555")
        return format_html(
            '<span style="color:#fff;background:{};padding:2px 6px;border-radius:8px">{}</span>',
            colour,
            obj.get_status_display(),
        )

    @admin.display(description="Needs attention")
    def attention(self, obj):
        return obj.last_error or "—"

    @admin.display(description="Signed in with", ordering="auth_kind")
    def signed_in_with(self, obj):
        return obj.get_auth_kind_display()

    # Monday.com's own word for the per-minute allowance is "complexity"; points is what it is.
    @admin.display(description="Points left this minute")
    def budget(self, obj):
        if obj.complexity_remaining is None:
            return "—"
        return f"{obj.complexity_remaining:,}"

    @admin.display(description="Connect with OAuth")
    def oauth_link(self, obj):
        url = reverse("monday-oauth-start")
        if obj is not None and obj.pk:
            url += f"?connection={obj.pk}"
        return format_html('<a class="button" href="{}">Connect with OAuth</a>', url)

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        for conn in queryset:
            result = monday_connections.test_monday_connection(conn)
            level = messages.SUCCESS if result["ok"] else messages.ERROR
            self.message_user(request, f"{conn.name}: {result['message']}", level)

    @admin.action(description="Refresh boards")
    def refresh_boards(self, request, queryset):
        for conn in queryset:
            _refresh_one(self, request, conn)


def _refresh_one(model_admin, request: HttpRequest, conn: MondayConnection) -> None:
    try:
        count = monday_connections.refresh_monday_boards(conn)
    except IntegrationError as err:
        model_admin.message_user(request, f"{conn.name}: {err}", messages.ERROR)
        return
    model_admin.message_user(
        request, f"{conn.name}: {plural(count, 'board', 'boards')} refreshed.", messages.SUCCESS
    )


@admin.register(MondayBoard)
class MondayBoardAdmin(admin.ModelAdmin):
    change_list_template = "admin/integrations/mondayboard/change_list.html"
    list_display = ["name", "board_id", "connection", "column_count", "group_list", "refreshed_at"]
    list_filter = ["connection"]
    search_fields = ["name", "board_id"]
    list_select_related = ["connection"]
    readonly_fields = [
        "connection",
        "board_id",
        "name",
        "column_table",
        "group_list",
        "subitem_board_id",
        "refreshed_at",
    ]
    exclude = ["columns", "groups", "subitem_columns"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Columns")
    def column_count(self, obj):
        return len(obj.columns)

    @admin.display(description="Groups")
    def group_list(self, obj):
        return ", ".join(g.get("title", g.get("id", "")) for g in obj.groups)

    @admin.display(description="Columns (id, title, type)")
    def column_table(self, obj):
        rows = ((c.get("id"), c.get("title"), c.get("type")) for c in obj.columns)
        return format_html_join("", "<div><code>{}</code> {} <i>({})</i></div>", rows)

    def get_urls(self):
        view = self.admin_site.admin_view(require_POST(self.refresh_view))
        return [
            path("refresh/", view, name="integrations_mondayboard_refresh"),
            *super().get_urls(),
        ]

    def refresh_view(self, request):
        if not request.user.has_perm("integrations.change_mondayconnection"):
            raise PermissionDenied
        conns = MondayConnection.objects.filter(status=ConnectionStatus.CONNECTED)
        if not conns:
            self.message_user(request, "No connected Monday.com connection.", messages.WARNING)
        for conn in conns:
            _refresh_one(self, request, conn)
        return HttpResponseRedirect(reverse("admin:integrations_mondayboard_changelist"))
