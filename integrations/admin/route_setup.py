"""Route setup in one pass: the board's columns for the form's script (JSON), the board's name in
the route list, and mapping codes onto the board labels that name them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.urls import path

from integrations.forms import MAP_LABELS_FIELD, board_setup
from integrations.models import MondayBoard
from integrations.sync.wording import plural


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

    @admin.display(description="Monday.com board", ordering="board_name")
    def board(self, obj):
        return obj.board_name or f"Board {obj.board_id} (refresh the boards)"

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
