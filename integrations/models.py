"""Connections, divisions, routes, synced records, the webhook inbox and polling cursors."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from integrations.crypto import EncryptedTextField


class ConnectionStatus(models.TextChoices):
    NOT_CONNECTED = "not_connected", "Not connected"
    CONNECTED = "connected", "Connected"
    NEEDS_REAUTH = "needs_reauth", "Needs re-authorization"


class ExactConnection(models.Model):
    """One authorized Exact Online user (OAuth) on one regional host."""

    class Region(models.TextChoices):
        NL = "nl", "Netherlands (start.exactonline.nl)"
        BE = "be", "Belgium (start.exactonline.be)"
        DE = "de", "Germany (start.exactonline.de)"
        UK = "co.uk", "United Kingdom (start.exactonline.co.uk)"
        US = "com", "United States (start.exactonline.com)"
        ES = "es", "Spain (start.exactonline.es)"
        FR = "fr", "France (start.exactonline.fr)"

    name = models.CharField(max_length=100)
    region = models.CharField(max_length=8, choices=Region.choices, default=Region.NL)
    # The host every call goes to: derived from the region, or the sandbox in sandbox mode.
    base_url = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.NOT_CONNECTED
    )
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField()
    access_token_issued_at = models.DateTimeField(null=True, blank=True)
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    # Last successful refresh: the refresh token dies after 30 days without one.
    refreshed_at = models.DateTimeField(null=True, blank=True)
    exact_user_id = models.CharField(max_length=64, blank=True)
    exact_user_name = models.CharField(max_length=200, blank=True)
    current_division = models.IntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Exact Online connection"

    def __str__(self) -> str:
        return self.name

    @property
    def is_usable(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED


class ExactDivision(models.Model):
    """A division (administratie) reachable through a connection; `selected` ones are synced."""

    connection = models.ForeignKey(
        ExactConnection, on_delete=models.CASCADE, related_name="divisions"
    )
    code = models.IntegerField()
    name = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    selected = models.BooleanField(default=False, help_text="Synchronise this division.")
    # When Exact moves a division to another database, every Timestamp is regenerated.
    division_move_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        unique_together = [("connection", "code")]
        ordering = ["connection", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()


class RateBudget(models.Model):
    """Exact's per-company rate limits, shared by every process, fed by X-RateLimit-* headers."""

    connection = models.ForeignKey(ExactConnection, on_delete=models.CASCADE, related_name="+")
    division = models.IntegerField()
    minutely_limit = models.IntegerField(default=60)
    minutely_remaining = models.IntegerField(null=True, blank=True)
    minutely_reset_at = models.DateTimeField(null=True, blank=True)
    daily_limit = models.IntegerField(default=5000)
    daily_remaining = models.IntegerField(null=True, blank=True)
    daily_reset_at = models.DateTimeField(null=True, blank=True)
    # Exact blocks the app for an hour after 10 answers 400/401/403/404 per endpoint per hour:
    # {"<endpoint>": {"since": "<iso start of the hour window>", "count": n}}
    error_counts = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        unique_together = [("connection", "division")]

    def __str__(self) -> str:
        return f"Rate budget {self.division}"


class MondayConnection(models.Model):
    """A Monday.com account reached with a personal API token or an OAuth access token."""

    class AuthKind(models.TextChoices):
        TOKEN = "token", "Personal API token"
        OAUTH = "oauth", "OAuth"

    name = models.CharField(max_length=100)
    auth_kind = models.CharField(max_length=10, choices=AuthKind.choices, default=AuthKind.TOKEN)
    api_url = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.NOT_CONNECTED
    )
    api_token = EncryptedTextField()
    account_name = models.CharField(max_length=200, blank=True)
    user_name = models.CharField(max_length=200, blank=True)
    user_email = models.CharField(max_length=200, blank=True)
    complexity_remaining = models.IntegerField(null=True, blank=True)
    complexity_reset_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Monday.com connection"

    def __str__(self) -> str:
        return self.name


class MondayBoard(models.Model):
    """Cached shape of a board: its groups and columns (refreshable from the admin)."""

    connection = models.ForeignKey(
        MondayConnection, on_delete=models.CASCADE, related_name="boards"
    )
    board_id = models.CharField(max_length=32)
    name = models.CharField(max_length=255)
    # [{"id", "title", "type", "settings": {...}}], [{"id", "title"}]
    columns = models.JSONField(default=list, blank=True)
    groups = models.JSONField(default=list, blank=True)
    subitem_board_id = models.CharField(max_length=32, blank=True)
    subitem_columns = models.JSONField(default=list, blank=True)
    refreshed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        unique_together = [("connection", "board_id")]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.board_id})"


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

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["route", "exact_key"], name="one_item_per_record_route")
        ]
        indexes = [models.Index(fields=["state"]), models.Index(fields=["division", "route"])]

    def __str__(self) -> str:
        return f"{self.get_state_display()} {self.exact_number or self.exact_key}"


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


class WebhookEventQuerySet(models.QuerySet):
    def due(self):
        now = timezone.now()
        return self.filter(state=WebhookEvent.State.PENDING).filter(
            models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now)
        )


class WebhookEvent(models.Model):
    """The inbox: every signed webhook Exact delivered, with our own retry state."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        WAITING = "waiting", "Waiting for re-authorization"
        DONE = "done", "Done"
        IGNORED = "ignored", "Ignored"
        DEAD = "dead", "Dead"

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    dedupe_key = models.CharField(max_length=64, unique=True)
    topic = models.CharField(max_length=80)
    action = models.CharField(max_length=20, blank=True)
    division = models.IntegerField(null=True, blank=True)
    exact_key = models.CharField(max_length=36, blank=True)
    raw_body = models.TextField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    reason = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    objects = WebhookEventQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.topic} {self.action} {self.exact_key}".strip()


class PollCursor(models.Model):
    """Where polling of one Exact sync feed for one route and division has got to."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="cursors")
    division = models.IntegerField()
    feed = models.CharField(max_length=80, help_text="Exact sync endpoint, e.g. SalesInvoices.")
    timestamp = models.BigIntegerField(default=1)
    # A poll claims the cursor by setting running_since; a stale claim (crashed worker) expires.
    running_since = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    records_written = models.PositiveIntegerField(default=0)
    caught_by_polling = models.PositiveIntegerField(default=0)

    class Meta:
        unique_together = [("route", "division", "feed")]

    def __str__(self) -> str:
        return f"{self.route} / {self.division} / {self.feed} @ {self.timestamp}"
