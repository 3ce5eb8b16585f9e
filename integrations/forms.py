"""Admin forms: the route form offers the board's real, compatible Monday columns per role."""

from __future__ import annotations

from django import forms
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from integrations.models import ColumnRole, ExactDivision, MondayBoard, Route
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


def board_setup(board: MondayBoard) -> dict:
    """What the route form offers once a board is picked: per role its compatible columns and
    the suggested one, and the board's groups. The route page's script loads it as JSON."""
    suggested = suggest_columns(board)
    return {
        "connection": board.connection_id,
        "roles": {
            str(role): {
                "choices": [list(c) for c in compatible_columns(board, role)],
                "suggested": suggested.get(str(role), ""),
            }
            for role in ColumnRole
        },
        "groups": [[g["id"], g.get("title") or g["id"]] for g in board.groups],
    }


ROUTE_GROUP = ("", "— the route's group —")
MAP_LABELS_FIELD = "map_codes_to_labels"  # on a new route only


class DivisionGroupsWidget(forms.Widget):
    """One row per division: its name and a picker of the board's groups (instead of JSON)."""

    def __init__(self, divisions=(), groups=(), attrs=None):
        super().__init__(attrs)
        self.divisions = list(divisions)  # [(code, "Bouwgroep Amsterdam (3101001)")]
        self.groups = list(groups)  # [(group id, title)]

    def value_from_datadict(self, data, files, name):
        picked = {str(code): data.get(f"{name}_{code}", "") for code, _ in self.divisions}
        return {code: group for code, group in picked.items() if group}

    def render(self, name, value, attrs=None, renderer=None):
        value = value if isinstance(value, dict) else {}
        if not self.divisions:
            return format_html("<p>{}</p>", "Connect Exact Online and choose divisions first.")
        rows = []
        for code, label in self.divisions:
            current = value.get(str(code), "")
            choices = [ROUTE_GROUP, *self.groups]
            if current and current not in {g for g, _ in choices}:
                choices.append((current, current))
            options = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((g, " selected" if g == current else "", t) for g, t in choices),
            )
            rows.append(
                format_html(
                    '<tr><td><label for="id_{0}_{1}">{2}</label></td><td>'
                    '<select name="{0}_{1}" id="id_{0}_{1}" class="division-group">{3}</select>'
                    "</td></tr>",
                    name,
                    code,
                    label,
                    options,
                )
            )
        return format_html(
            '<table class="division-groups">{}</table>',
            format_html_join("", "{}", ((r,) for r in rows)),
        )


class DivisionGroupsField(forms.Field):
    """{"<division code>": "<group id>"}; each group one of the board's (when it is known)."""

    def __init__(self, *, groups=(), **kwargs):
        super().__init__(required=False, **kwargs)
        self.group_ids = {g for g, _ in groups}

    def clean(self, value):
        value = value or {}
        unknown = [g for g in value.values() if self.group_ids and g not in self.group_ids]
        if unknown:
            raise forms.ValidationError("Choose groups of the route's board.")
        return value


def division_rows(exact_connection_id: str) -> list[tuple[int, str]]:
    """(code, "name (code)") of the divisions a route may send, of one connection if chosen."""
    divisions = ExactDivision.objects.filter(selected=True)
    if exact_connection_id:
        divisions = divisions.filter(connection_id=exact_connection_id)
    return [(d.code, f"{d.name} ({d.code})" if d.name else str(d.code)) for d in divisions]


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
        # The model's field names in the words of a finance team.
        labels = {
            "name": "Name",
            "board_id": "Monday.com board",
            "group_id": "Group",
            "division_groups": "Group per division",
            "entity": "Documents",
            "exact_connection": "Exact Online connection",
            "divisions": "Divisions (administrations)",
            "monday_connection": "Monday.com connection",
            "line_items": "Invoice lines",
            "line_rule": "GL account and cost center of an item",
            "create_labels_if_missing": "Add missing labels to the board",
            "deleted_label": "Status for documents deleted in Exact Online",
            "poll_interval_minutes": "Check Exact Online every (minutes)",
            "backfill_from": "Bring documents changed since",
        }

    ROLLOVER_FIELDS = ("board_item_limit", "board_name_rule", "board_period")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.ROLLOVER_FIELDS:  # left empty: the route keeps what it has
            if name in self.fields:  # a read-only viewer's form has none of them
                self.fields[name].required = False
        if "backfill_from" in self.fields:
            self.fields[
                "backfill_from"
            ].help_text = "Empty: every document Exact Online has (the first sync)."
        self.board = self._chosen_board()
        self._board_choices()
        if "division_groups" in self.fields:
            groups = self._groups()
            self.fields["division_groups"] = DivisionGroupsField(
                groups=groups if self.board else (),  # board not read yet: nothing to check
                label="Group per division",
                help_text="Optional: items of a division go to its own group of the board.",
                widget=DivisionGroupsWidget(division_rows(self._value("exact_connection")), groups),
            )
        if "group_id" in self.fields:
            self.fields["group_id"] = forms.ChoiceField(
                choices=[("", "— the board's top group —"), *self._groups()],
                required=False,
                initial=self.instance.group_id,
                label="Group",
            )
        if self.instance.pk is None and "board_id" in self.fields:
            self.fields[MAP_LABELS_FIELD] = forms.BooleanField(
                required=False,
                initial=True,
                label="Map codes to the board's labels that name them",
                help_text="GL account 8000 to the label “8000 …”, cost center P101 to “P101”. "
                "Codes without such a label stay unmapped, and their items are flagged.",
            )
        for role in ColumnRole:
            choices = compatible_columns(self.board, role) if self.board else []
            self.fields[role_field_name(role)] = forms.ChoiceField(
                label=f"{role.label} column",
                choices=[NOT_USED, *choices],
                required=False,
                initial=(self.instance.columns or {}).get(role, ""),
            )

    def _groups(self) -> list[tuple[str, str]]:
        if self.board is None:
            current = self.instance.group_id
            return [(current, current)] if current else []
        return [(g["id"], g.get("title") or g["id"]) for g in self.board.groups]

    def _value(self, name: str) -> str:
        if self.is_bound:
            return str(self.data.get(self.add_prefix(name)) or "")
        attribute = f"{name}_id" if name.endswith("_connection") else name
        return str(getattr(self.instance, attribute) or "")

    def _chosen_board(self) -> MondayBoard | None:
        connection_id, board_id = self._value("monday_connection"), self._value("board_id")
        if not (connection_id and board_id):
            return None
        return MondayBoard.objects.filter(connection_id=connection_id, board_id=board_id).first()

    def _board_choices(self) -> None:
        boards = MondayBoard.objects.select_related("connection").order_by("name")
        choices = [(b.board_id, f"{b.name} ({b.connection})") for b in boards]
        current = self.instance.board_id
        if current and current not in {c[0] for c in choices}:
            choices.insert(0, (current, f"Board {current} (not in the list: refresh the boards)"))
        self.fields["board_id"] = forms.ChoiceField(
            choices=[("", "—"), *choices],
            label="Monday.com board",
            initial=current,
            help_text="Its columns are then offered per role below, pre-filled from their "
            "titles. Missing? Refresh the boards under Monday.com boards.",
            widget=forms.Select(attrs={"data-setup-url": reverse("admin:route_board_setup")}),
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
            # A board picked without the page's script (which fills the roles at once): take
            # the columns its titles suggest; they show on the page after saving, to check.
            for role, column_id in suggest_columns(self.board).items():
                cleaned[role_field_name(role)] = column_id
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
