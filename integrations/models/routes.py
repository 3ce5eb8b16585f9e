"""Routes (which entity of which division goes to which board, and which column plays which
role) and the synced records: Exact key → Monday item, content hash, state, review reasons."""

from __future__ import annotations

from django.db import models

from integrations.models.connections import ExactConnection, ExactDivision, MondayConnection


class Entity(models.TextChoices):
    SALES_INVOICE = "sales_invoice", "Sales invoices"
    PURCHASE_ORDER = "purchase_order", "Purchase orders"
    SALES_ORDER = "sales_order", "Sales orders"
    PURCHASE_INVOICE = "purchase_invoice", "Purchase invoices"


class ColumnRole(models.TextChoices):
    """What a Monday column holds for a route (Route.columns maps role -> column id)."""

    DATE = "date", "Date"
    AMOUNT = "amount", "Amount (document currency)"
    AMOUNT_DC = "amount_dc", "Amount (division currency)"
    CURRENCY = "currency", "Currency"
    ACCOUNT = "account", "Account name"
    GL_ACCOUNT = "gl_account", "GL account"
    COST_CENTER = "cost_center", "Cost center"
    EXACT_NUMBER = "exact_number", "Exact number"
    EXACT_KEY = "exact_key", "Exact key"
    STATUS = "status", "Document status"
    REVIEW_FLAG = "review_flag", "Review flag"
    EXACT_LINK = "exact_link", "Link to Exact Online"
    DESCRIPTION = "description", "Description"
    DIVISION = "division", "Division"


class Route(models.Model):
    """Which entity of which divisions goes to which board and group, with which column roles."""

    class LineItems(models.TextChoices):
        NONE = "none", "No line items"
        SUBITEMS = "subitems", "Line items as subitems"

    class LineRule(models.TextChoices):
        LARGEST = "largest_amount", "Use the line with the largest amount"
        SUBITEMS = "per_line", "Map each line on its subitem"

    name = models.CharField(max_length=100)
    enabled = models.BooleanField(default=True)
    entity = models.CharField(max_length=20, choices=Entity.choices)
    exact_connection = models.ForeignKey(
        ExactConnection, on_delete=models.PROTECT, related_name="routes"
    )
    divisions = models.ManyToManyField(ExactDivision, related_name="routes")
    monday_connection = models.ForeignKey(
        MondayConnection, on_delete=models.PROTECT, related_name="routes"
    )
    board_id = models.CharField(max_length=32)
    group_id = models.CharField(max_length=64, blank=True)
    # {"<division code>": "<group id>"}: a group per division, overriding group_id.
    division_groups = models.JSONField(default=dict, blank=True)
    # {"<ColumnRole>": "<monday column id>"}
    columns = models.JSONField(default=dict, blank=True)
    line_items = models.CharField(max_length=10, choices=LineItems.choices, default=LineItems.NONE)
    line_rule = models.CharField(max_length=20, choices=LineRule.choices, default=LineRule.LARGEST)
    create_labels_if_missing = models.BooleanField(default=False)
    deleted_label = models.CharField(
        max_length=60, default="Deleted in Exact", help_text="Status label for deleted records."
    )
    poll_interval_minutes = models.PositiveIntegerField(default=15)
    # Boards that never fill up: before the current board holds `board_item_limit` items, new
    # items go to a duplicate of it (structure only) named by `board_name_rule`.
    board_item_limit = models.PositiveIntegerField(
        default=10_000,
        help_text="Items a board of this route may hold before the route moves on to a new "
        "board. Monday.com allows at most 10,000 items a board.",
    )
    board_name_rule = models.CharField(
        max_length=120,
        default="{board} ({n})",
        help_text="Name of each new board: {board} is the first board's name, {n} the board's "
        "number, {period} the year or quarter (when boards are per period), {year} the year.",
    )
    board_period = models.CharField(
        max_length=10,
        choices=[
            ("", "One board until it is full"),
            ("year", "A board per year"),
            ("quarter", "A board per quarter"),
        ],
        default="",
        blank=True,
        help_text="Choose a board per year or quarter of the document date.",
    )
    backfill_from = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def column(self, role: str) -> str:
        return self.columns.get(role, "")


class SyncedRecord(models.Model):
    """One Exact document and the Monday item it became on one route."""

    class State(models.TextChoices):
        SYNCED = "synced", "Synced"
        FLAGGED = "flagged", "Flagged for review"
        FAILED = "failed", "Failed"
        DELETED = "deleted", "Deleted in Exact"

    class Via(models.TextChoices):
        WEBHOOK = "webhook", "Webhook"
        POLL = "poll", "Polling"
        MANUAL = "manual", "Manual re-sync"

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="records")
    division = models.IntegerField()
    exact_key = models.CharField(max_length=36)
    exact_number = models.CharField(max_length=40, blank=True)
    monday_item_id = models.CharField(max_length=32, blank=True)
    # The board the item lives on (set before its first write): updates go there even after
    # the route has moved on to a new board. Blank on rows from before boards rolled over.
    monday_board_id = models.CharField(max_length=32, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    # Highest Exact row version applied: an older row never overwrites a newer one.
    exact_timestamp = models.BigIntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.SYNCED)
    # Incremented (and committed) before every Monday write. A row with attempts but no item id
    # means an earlier write may have reached Monday: look the item up by its Exact key first.
    write_attempts = models.PositiveIntegerField(default=0)
    review_reasons = models.JSONField(default=list, blank=True)
    # What was written (date, amount, currency, account, gl_account, cost_center, ...), for the
    # review queue and reconciliation. Plain business values, never credentials.
    snapshot = models.JSONField(default=dict, blank=True)
    last_error = models.TextField(blank=True)
    first_seen_via = models.CharField(max_length=10, choices=Via.choices, default=Via.WEBHOOK)
    # Set when polling found a change no webhook had delivered ("caught by polling").
    caught_by_polling = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    # When the record last went from clean to flagged (the review queue's "flagged" date and
    # the daily digest's "newly flagged"); kept while it stays flagged, cleared when it clears.
    flagged_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["route", "exact_key"], name="one_item_per_record_route")
        ]
        indexes = [models.Index(fields=["state"]), models.Index(fields=["division", "route"])]

    def __str__(self) -> str:
        return f"{self.get_state_display()} {self.exact_number or self.exact_key}"


class RouteBoard(models.Model):
    """One board a route writes to: the first, and each one it rolled over to."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="boards")
    board_id = models.CharField(max_length=32)
    name = models.CharField(max_length=255, blank=True)
    number = models.PositiveIntegerField(default=1)  # 1 for the first board, then 2, 3, ...
    period = models.CharField(max_length=10, blank=True)  # "", "2027" or "2027-Q1"
    # Items put (or about to be put) on this board: reserved before each create, so it can
    # only run ahead of the board, never behind it.
    item_count = models.PositiveIntegerField(default=0)
    # This board's own column ids and groups for the route's roles (a copy gets new ids).
    columns = models.JSONField(default=dict, blank=True)
    group_id = models.CharField(max_length=64, blank=True)
    division_groups = models.JSONField(default=dict, blank=True)
    # False while a duplicated board's columns are not yet matched to the roles.
    ready = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["route", "number"]
        constraints = [
            models.UniqueConstraint(fields=["route", "board_id"], name="one_row_per_route_board")
        ]

    def __str__(self) -> str:
        return self.name or self.board_id


class SyncedLine(models.Model):
    """One Exact document line and its Monday subitem."""

    record = models.ForeignKey(SyncedRecord, on_delete=models.CASCADE, related_name="lines")
    exact_line_id = models.CharField(max_length=36)
    monday_subitem_id = models.CharField(max_length=32, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    removed = models.BooleanField(default=False)

    class Meta:
        unique_together = [("record", "exact_line_id")]

    def __str__(self) -> str:
        return f"Line {self.exact_line_id}"
