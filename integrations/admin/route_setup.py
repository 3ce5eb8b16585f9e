"""Route setup in one pass: the board's columns for the form's script (JSON), the board's name in
the route list, and mapping codes onto the board labels that name them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.urls import path
from django.utils.html import format_html_join

from integrations.forms import MAP_LABELS_FIELD, RouteColumnsForm, board_setup
from integrations.models import ColumnRole, MondayBoard
from integrations.monday.boards import column_titles
from integrations.sync.wording import plural


class DocumentsFilter(admin.ChoicesFieldListFilter):
    """The route's entity filter, titled in a finance team's word."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "documents"


class RouteSetupMixin:
    """Mixed into RouteAdmin (its get_queryset annotates `board_name`)."""

    class Media:
        js = ["integrations/route_board_setup.js"]  # picking a board fills the role pickers

    def get_urls(self):
        view = self.admin_site.admin_view(self.board_setup_view)
        return [path("board-setup/", view, name="route_board_setup")] + super().get_urls()

    def board_setup_view(self, request):
        """JSON for the route form's script: the picked board's columns per role, suggested
        columns and groups. Staff who may add or change routes only."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        boards = MondayBoard.objects.filter(board_id=request.GET.get("board", ""))
        if request.GET.get("connection"):
            boards = boards.filter(connection_id=request.GET["connection"])
        board = boards.first()
        if board is None:
            return JsonResponse(
                {"error": "That board is not in the list: refresh the boards."}, status=404
            )
        return JsonResponse(board_setup(board))

    # What a viewer (the finance reviewer) sees instead of ids and JSON.
    READ_ONLY_SWAPS = {
        "board_id": "board",
        "group_id": "group",
        "division_groups": "groups_per_division",
    }

    def read_only_fields(self) -> list[str]:
        fields = [self.READ_ONLY_SWAPS.get(f, f) for f in RouteColumnsForm.Meta.fields]
        return [*fields, "column_roles"]

    def _board(self, obj) -> MondayBoard | None:
        return MondayBoard.objects.filter(
            connection_id=obj.monday_connection_id, board_id=obj.board_id
        ).first()

    def _group_titles(self, obj) -> dict[str, str]:
        board = self._board(obj)
        return {g["id"]: g.get("title") or g["id"] for g in (board.groups if board else [])}

    @admin.display(description="Group")
    def group(self, obj):
        if not obj.group_id:
            return "The board's top group"
        return self._group_titles(obj).get(obj.group_id, obj.group_id)

    @admin.display(description="Group per division")
    def groups_per_division(self, obj):
        titles = self._group_titles(obj)
        names = dict(obj.divisions.values_list("code", "name"))
        rows = [
            (names.get(int(code)) or code, titles.get(group, group))
            for code, group in sorted((obj.division_groups or {}).items())
        ]
        if not rows:
            return "The route's group for every division"
        return format_html_join("", "<div>{}: {}</div>", rows)

    @admin.display(description="Monday.com columns per role")
    def column_roles(self, obj):
        titles = column_titles(self._board(obj))
        return format_html_join(
            "",
            "<div>{}: {}</div>",
            (
                (ColumnRole(role).label, titles.get(column, column))
                for role, column in (obj.columns or {}).items()
                if role in ColumnRole.values
            ),
        )

    @admin.display(description="Documents", ordering="entity")
    def documents(self, obj):
        return obj.get_entity_display()

    @admin.display(description="Checked every", ordering="poll_interval_minutes")
    def checked_every(self, obj):
        n = obj.poll_interval_minutes
        return plural(n, "minute", "minutes")

    @admin.display(description="Monday.com board", ordering="board_name")
    def board(self, obj):
        name = getattr(obj, "board_name", None)  # annotated on list pages
        if name is None:
            board = self._board(obj)
            name = board.name if board else ""
        return name or f"Board {obj.board_id} (refresh the boards)"

    def save_related(self, request, form, formsets, change):
        # After the divisions are saved and before RouteAdmin schedules the first poll (same
        # transaction), so the first items already find their mappings.
        super().save_related(request, form, formsets, change)
        if form.cleaned_data.get(MAP_LABELS_FIELD):
            self._map_matching_labels(request, [form.instance])

    @admin.action(description="Map codes to the board's labels that name them")
    def map_matching_labels(self, request, queryset):
        self._map_matching_labels(request, queryset)

    def _map_matching_labels(self, request, routes) -> None:
        from mappings.automap import map_matching_labels

        mapped = unmatched = 0
        for route in routes:
            result = map_matching_labels(route, user=request.user)
            mapped, unmatched = mapped + result.mapped, unmatched + result.unmatched
        if not (mapped or unmatched):
            self.message_user(
                request,
                "No GL account or cost center is waiting for a mapping. New codes come with "
                "“Refresh GL accounts and cost centers” on the Exact Online connection; then use "
                "the route action “Map codes to the board's labels that name them”.",
                messages.INFO,
            )
            return
        text = f"Mapped {plural(mapped, 'code', 'codes')} to the board's labels."
        if unmatched:
            text += (
                f" {plural(unmatched, 'code has no label of its own', 'codes have no label of their own')}"
                " on the board and stay unmapped: items using them are flagged for review."
            )
        self.message_user(request, text, messages.SUCCESS)
