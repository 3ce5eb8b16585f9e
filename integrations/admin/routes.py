"""Admin for routes, synced records (the review queue), the webhook inbox and polling cursors."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join

from integrations.admin.progress import SyncProgressMixin, started_message
from integrations.admin.reconcile import ReconcileMixin
from integrations.admin.review import ReviewQueueMixin
from integrations.admin.route_setup import DocumentsFilter, RouteSetupMixin
from integrations.forms import MAP_LABELS_FIELD, RouteColumnsForm, role_field_name
from integrations.models import (
    ColumnRole,
    ExactDivision,
    MondayBoard,
    PollCursor,
    Route,
    SyncedRecord,
    WebhookEvent,
)
from integrations.sync import job_queue
from integrations.sync.wording import format_money, plain_reason, plural

NOWRAP = '<span style="white-space:nowrap">{}</span>'
BADGE_COLOURS = {
    "synced": "#2e7d32",
    "done": "#2e7d32",
    "flagged": "#ed6c02",
    "waiting": "#ed6c02",
    "pending": "#0277bd",
    "processing": "#0277bd",
    "ignored": "#757575",
    "deleted": "#757575",
    "failed": "#c62828",
    "dead": "#c62828",
}


def board_overview(route: Route):
    """The route's current board, how full it is, and the boards it rolled over from."""
    from integrations.models import MondayBoard, RouteBoard

    rows = {b.board_id: b for b in RouteBoard.objects.filter(route=route)}
    current = rows.pop(route.board_id, None)
    cached = MondayBoard.objects.filter(board_id=route.board_id).values_list("name", flat=True)
    name = (current.name if current else "") or next(iter(cached), route.board_id)
    count = current.item_count if current else route.records.exclude(monday_item_id="").count()
    head = format_html(
        "Current board: <strong>{}</strong> — {} of {} items",
        name,
        number_format(count, force_grouping=True),
        number_format(route.board_item_limit, force_grouping=True),
    )
    if not rows:
        return head
    earlier = format_html_join(
        ", ",
        "{} ({} items{})",
        (
            (b.name or b.board_id, b.item_count, f", {b.period}" if b.period else "")
            for b in sorted(rows.values(), key=lambda b: b.number)
        ),
    )
    return format_html("{}<br>Earlier boards (their items stay there): {}", head, earlier)


def badge(state: str, label: str):
    colour = BADGE_COLOURS.get(state, "#555")
    return format_html(
        '<span style="color:#fff;background:{};padding:2px 6px;border-radius:8px;'
        'white-space:nowrap">{}</span>',
        colour,
        label,
    )


class StateRowAdmin(admin.ModelAdmin):
    """Rows the system writes (records, events): read-only here, with a state badge."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="State", ordering="state")
    def status(self, obj):
        return badge(obj.state, obj.get_state_display())


@admin.register(SyncedRecord)
class SyncedRecordAdmin(ReviewQueueMixin, StateRowAdmin):
    list_display = [
        "exact_number",
        "status",
        "route",
        "division_name",
        "amount",
        "document_date",
        "reasons",
        "synced",
    ]
    list_filter = ["state", "route", "division", "caught_by_polling", "first_seen_via"]
    search_fields = ["exact_number", "exact_key", "monday_item_id"]
    list_select_related = ["route"]
    readonly_fields = [f.name for f in SyncedRecord._meta.fields]
    actions = ["resync"]

    def get_queryset(self, request):
        names = ExactDivision.objects.filter(
            connection_id=OuterRef("route__exact_connection_id"), code=OuterRef("division")
        ).values("name")[:1]
        return super().get_queryset(request).annotate(division_label=Subquery(names))

    @admin.display(description="Division", ordering="division")
    def division_name(self, obj):
        return getattr(obj, "division_label", None) or obj.division

    @admin.display(description="Amount")
    def amount(self, obj):
        snap = obj.snapshot or {}
        return format_html(NOWRAP, format_money(snap.get("amount"), snap.get("currency") or ""))

    @admin.display(description="Date")
    def document_date(self, obj):
        return format_html(NOWRAP, (obj.snapshot or {}).get("date") or "")

    @admin.display(description="Synced at", ordering="synced_at")
    def synced(self, obj):
        when = timezone.localtime(obj.synced_at) if obj.synced_at else None
        return format_html(NOWRAP, date_format(when, "j M Y, H:i") if when else "—")

    @admin.display(description="Review reasons")
    def reasons(self, obj):
        items = obj.review_reasons or ([obj.last_error] if obj.last_error else [])
        return format_html_join("", "<div>{}</div>", ((plain_reason(r),) for r in items))

    @admin.action(description="Re-sync selected records from Exact Online")
    def resync(self, request, queryset):
        self._resync(request, queryset)


@admin.register(WebhookEvent)
class WebhookEventAdmin(StateRowAdmin):
    list_display = [
        "received_at",
        "topic",
        "action",
        "division",
        "exact_key",
        "status",
        "attempts",
        "error",
    ]
    list_filter = ["state", "topic", "action", "division"]
    search_fields = ["exact_key", "topic"]
    readonly_fields = [f.name for f in WebhookEvent._meta.fields]
    actions = ["retry"]

    @admin.display(description="Error / reason")
    def error(self, obj):
        return obj.last_error or obj.reason

    @admin.action(description="Retry selected events")
    def retry(self, request, queryset):
        retried = 0
        for event in queryset.filter(
            state__in=[WebhookEvent.State.DEAD, WebhookEvent.State.WAITING]
        ):
            job_queue.retry_event(event, user=request.user)
            retried += 1
        self.message_user(
            request, f"Queued {plural(retried, 'event', 'events')} again.", messages.SUCCESS
        )


@admin.register(PollCursor)
class PollCursorAdmin(admin.ModelAdmin):
    list_display = [
        "route",
        "division",
        "feed",
        "timestamp",
        "last_success_at",
        "records_written",
        "caught_by_polling",
        "running_since",
        "last_error",
    ]
    list_filter = ["route", "division"]
    readonly_fields = [f.name for f in PollCursor._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Route)
class RouteAdmin(RouteSetupMixin, SyncProgressMixin, ReconcileMixin, admin.ModelAdmin):
    form = RouteColumnsForm  # column roles offer the board's real, compatible columns
    list_display = [
        "name",
        "documents",
        "board",
        "enabled",
        "checked_every",
        "flagged",
        "failed",
    ]
    list_filter = [("entity", DocumentsFilter), "enabled"]
    readonly_fields = ["boards_overview", "sync_progress"]
    filter_horizontal = ["divisions"]
    actions = [
        "map_matching_labels",
        "sync_now",
        "register_webhooks",
        "list_webhooks",
        "remove_webhooks",
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The role fields are added per instance (they depend on the board), so the form class
        # is built from the model fields only; get_fieldsets then shows the role fields too.
        kwargs["fields"] = RouteColumnsForm.Meta.fields
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return [(None, {"fields": self.read_only_fields()})]
        roles = [role_field_name(role) for role in ColumnRole]
        roles += [MAP_LABELS_FIELD] if obj is None else []
        rollover = ["board_item_limit", "board_name_rule", "board_period"]
        main = [f for f in RouteColumnsForm.Meta.fields if f not in rollover]
        boards = [*rollover, "boards_overview"] if obj is not None else rollover
        progress = (
            [("Sync with Exact Online", {"fields": ["sync_progress"]})] if obj is not None else []
        )
        return [
            *progress,
            (None, {"fields": main}),
            ("Monday.com columns per role", {"fields": roles}),
            ("Boards (a new board before one is full)", {"fields": boards}),
        ]

    @admin.display(description="Boards")
    def boards_overview(self, obj):
        return board_overview(obj)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                board_name=Subquery(
                    MondayBoard.objects.filter(
                        connection_id=OuterRef("monday_connection_id"),
                        board_id=OuterRef("board_id"),
                    ).values("name")[:1]
                ),
                n_flagged=Count("records", filter=Q(records__state=SyncedRecord.State.FLAGGED)),
                n_failed=Count("records", filter=Q(records__state=SyncedRecord.State.FAILED)),
            )
        )

    @admin.display(description="Reconcile")
    def reconcile_link(self, obj):
        from django.urls import reverse

        return format_html(
            '<a href="{}">Compare with Exact</a>', reverse("admin:route_reconcile", args=[obj.pk])
        )

    @admin.display(description="Flagged", ordering="n_flagged")
    def flagged(self, obj):
        return obj.n_flagged

    @admin.display(description="Failed", ordering="n_failed")
    def failed(self, obj):
        return obj.n_failed

    @admin.action(description="Sync now (read the changes from Exact Online)")
    def sync_now(self, request, queryset):
        from integrations.sync.runs import start_run

        started = [start_run(route, user=request.user).route for route in queryset]
        self.message_user(request, started_message(started), messages.SUCCESS)

    def _subscriptions(self, request, call):
        """Run one subscriptions service; an IntegrationError becomes an admin message."""
        from integrations.errors import IntegrationError
        from integrations.sync import subscriptions

        try:
            return call(subscriptions)
        except IntegrationError as exc:
            self.message_user(request, f"{exc.message} {exc.hint}", messages.ERROR)
            return None

    @admin.action(description="Register Exact webhooks for the enabled routes")
    def register_webhooks(self, request, queryset):
        counts = self._subscriptions(request, lambda s: s.register_subscriptions(user=request.user))
        if counts is not None:
            self.message_user(
                request,
                f"Webhooks: {plural(counts['created'], 'subscription', 'subscriptions')} "
                f"created, {counts['present']} already there.",
                messages.SUCCESS,
            )

    @admin.action(description="List Exact webhook subscriptions")
    def list_webhooks(self, request, queryset):
        rows = self._subscriptions(request, lambda s: s.list_subscriptions())
        for row in rows or []:
            self.message_user(
                request,
                f"Division {row['division']}: {row.get('Topic')} → {row.get('CallbackURL')}",
            )
        if rows == []:
            self.message_user(request, "No webhook subscriptions: register them.", messages.WARNING)

    @admin.action(description="Remove Exact webhook subscriptions")
    def remove_webhooks(self, request, queryset):
        removed = self._subscriptions(request, lambda s: s.remove_subscriptions(user=request.user))
        if removed is not None:
            self.message_user(
                request,
                f"Removed {plural(removed, 'subscription', 'subscriptions')}; polling still runs.",
                messages.SUCCESS,
            )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        from integrations.sync.routes import route_saved

        route_saved(form.instance, user=request.user, created=not change)
