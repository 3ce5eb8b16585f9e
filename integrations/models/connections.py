"""The connections to the two outside systems: Exact Online (with its divisions and the shared
rate budget per division) and Monday.com (with its known boards). Tokens are encrypted at rest."""

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
    # Endpoints that refused a filter we sent (a 400, counted above), so that no process sends
    # it again for a while: {"<endpoint>": "<iso time of the refusal>"}
    refused_endpoints = models.JSONField(default=dict, blank=True)
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
        verbose_name = "Monday.com board"

    def __str__(self) -> str:
        return f"{self.name} ({self.board_id})"


class MondayBudget(models.Model):
    """Monday's per-minute complexity budget and daily call count of one token, shared by every
    process (integrations/monday/shared_budget.py). Points are reserved before a request is
    sent and trued up from the `complexity` Monday returns."""

    # No database constraint: the row is written on its own connection (shared_budget.py),
    # which may not yet see a connection row its caller's transaction created.
    connection = models.OneToOneField(
        MondayConnection, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    limit = models.BigIntegerField(null=True, blank=True)  # learned from `complexity.before`
    window = models.IntegerField(default=0)  # counts the windows, to tell answers apart
    remaining = models.BigIntegerField(null=True, blank=True)  # None: not known in this window
    reset_at = models.DateTimeField(null=True, blank=True)
    pending = models.BigIntegerField(default=0)  # reserved in this window, not yet answered
    carried = models.BigIntegerField(default=0)  # reserved in earlier windows, not yet answered
    # The reservations behind pending + carried, {ref: [points, window, deadline]}: one a
    # request in flight, so a reservation whose worker died expires instead of staying counted.
    in_flight = models.JSONField(default=dict, blank=True)
    daily_day = models.DateField(null=True, blank=True)  # UTC
    daily_calls = models.IntegerField(default=0)
    daily_blocked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Monday budget {self.connection_id}"
