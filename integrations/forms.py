"""Admin forms: the route form offers the board's real, compatible Monday columns per role."""

from __future__ import annotations

from django import forms

from integrations.models import ColumnRole, MondayBoard, Route
from integrations.monday.boards import compatible_columns

NOT_USED = ("", "— not used —")


def role_field_name(role: str) -> str:
    return f"column_{role}"


# Words in a column title that suggest a role (English and Dutch finance boards).
ROLE_WORDS = {
    ColumnRole.EXACT_KEY: ("exact key", "exact id", "guid"),
    ColumnRole.EXACT_NUMBER: ("exact number", "invoice number", "number", "nummer"),
    ColumnRole.DATE: ("invoice date", "date", "datum"),
    ColumnRole.AMOUNT: ("amount", "bedrag", "total"),
    ColumnRole.ACCOUNT: ("account", "customer", "supplier", "klant", "relatie"),
    ColumnRole.GL_ACCOUNT: ("gl account", "gl", "grootboek", "ledger"),
    ColumnRole.COST_CENTER: ("cost center", "cost centre", "kostenplaats", "kp"),
    ColumnRole.STATUS: ("status",),
    ColumnRole.REVIEW_FLAG: ("review", "controle", "check"),
    ColumnRole.EXACT_LINK: ("exact link", "link"),
    ColumnRole.DESCRIPTION: ("description", "omschrijving"),
    ColumnRole.CURRENCY: ("currency", "valuta"),
}


def suggest_columns(board: MondayBoard) -> dict[str, str]:
    """role -> column id, guessed from the board's column titles among compatible columns.
    Each column is suggested for one role at most; the admin checks them before saving."""
    suggested: dict[str, str] = {}
    taken: set[str] = set()
    for role, words in ROLE_WORDS.items():
        candidates = [c for c in compatible_columns(board, role) if c[0] not in taken]
        for word in words:  # the most specific words first
            match = next((cid for cid, title in candidates if word in title.lower()), None)
            if match:
                suggested[str(role)] = match
                taken.add(match)
                break
    return suggested


class RouteColumnsForm(forms.ModelForm):
    """Route form: board and group from the cached boards, one ChoiceField per ColumnRole.

    Column choices are the chosen board's columns whose type fits the role (no free-text ids).
    While the board is not cached yet, the stored column roles are kept as they are.
    """

    class Meta:
        model = Route
        fields = [
            "name",
            "enabled",
            "entity",
            "exact_connection",
            "divisions",
            "monday_connection",
            "board_id",
            "group_id",
            "division_groups",
            "line_items",
            "line_rule",
            "create_labels_if_missing",
            "deleted_label",
            "poll_interval_minutes",
            "backfill_from",
            "board_item_limit",
            "board_name_rule",
            "board_period",
        ]

    ROLLOVER_FIELDS = ("board_item_limit", "board_name_rule", "board_period")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.ROLLOVER_FIELDS:  # left empty: the route keeps what it has
            if name in self.fields:  # a read-only viewer's form has none of them
                self.fields[name].required = False
        self.board = self._chosen_board()
        self._board_choices()
        if self.board is None:
            self.fields["board_id"].help_text = (
                "Pick a board (refresh the Monday boards first if it is missing), then press "
                "“Save and continue editing”: the column roles below then offer its columns."
            )
            for role in ColumnRole:  # rendered empty, so the admin's fieldsets always fit
                self.fields[role_field_name(role)] = forms.ChoiceField(
                    label=f"{role.label} column", choices=[NOT_USED], required=False
                )
            return
        if "group_id" in self.fields:
            groups = [(g["id"], g.get("title") or g["id"]) for g in self.board.groups]
            self.fields["group_id"] = forms.ChoiceField(
                choices=[("", "— board's top group —"), *groups],
                required=False,
                initial=self.instance.group_id,
                label="Group",
            )
        for role in ColumnRole:
            self.fields[role_field_name(role)] = forms.ChoiceField(
                label=f"{role.label} column",
                choices=[NOT_USED, *compatible_columns(self.board, role)],
                required=False,
                initial=(self.instance.columns or {}).get(role, ""),
            )

    def _value(self, name: str) -> str:
        if self.is_bound:
            return str(self.data.get(self.add_prefix(name)) or "")
        return str(
            getattr(self.instance, f"{name}_id" if name == "monday_connection" else name) or ""
        )

    def _chosen_board(self) -> MondayBoard | None:
        connection_id, board_id = self._value("monday_connection"), self._value("board_id")
        if not (connection_id and board_id):
            return None
        return MondayBoard.objects.filter(connection_id=connection_id, board_id=board_id).first()

    def _board_choices(self) -> None:
        boards = MondayBoard.objects.select_related("connection").order_by("name")
        choices = [(b.board_id, f"{b.name} ({b.board_id}) — {b.connection}") for b in boards]
        current = self.instance.board_id
        if current and current not in {c[0] for c in choices}:
            choices.insert(0, (current, f"{current} (not in the cached boards)"))
        self.fields["board_id"] = forms.ChoiceField(
            choices=[("", "—"), *choices], label="Monday board", initial=current
        )

    def clean(self):
        cleaned = super().clean()
        for name in self.ROLLOVER_FIELDS:
            if cleaned.get(name) in (None, "") and name != "board_period":
                cleaned[name] = getattr(self.instance, name)
        if self.board is None:
            return cleaned
        if self.board.board_id != (self.instance.board_id or "") and not any(
            cleaned.get(role_field_name(role)) for role in ColumnRole
        ):
            # A board was just picked: offer its columns, pre-filled from their titles.
            data = self.data.copy()
            for role, column_id in suggest_columns(self.board).items():
                data[self.add_prefix(role_field_name(role))] = column_id
            self.data = data
            raise forms.ValidationError(
                "Board picked: its columns are now offered below, pre-filled from their titles. "
                "Check them and save again."
            )
        chosen: dict[str, str] = {}
        for role in ColumnRole:
            column_id = cleaned.get(role_field_name(role)) or ""
            if column_id:
                chosen[str(role)] = column_id
        if ColumnRole.EXACT_KEY not in chosen:
            self.add_error(
                role_field_name(ColumnRole.EXACT_KEY),
                "Choose the column that holds the Exact key: it is how items are found again.",
            )
        self.chosen_columns = chosen
        return cleaned

    def save(self, commit: bool = True):
        if getattr(self, "chosen_columns", None) is not None:
            self.instance.columns = self.chosen_columns
        return super().save(commit=commit)
