"""Alert emails: what each user wants to receive, and which alerts went out (so none repeats)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AlertKind(models.TextChoices):
    CONNECTION = "connection", "A connection needs re-authorization or is about to expire"
    DEAD_EVENTS = "dead_events", "Change notices from Exact Online could not be processed"
    DAILY_DIGEST = "daily_digest", "Daily digest of newly flagged items"


class AlertPreferences(models.Model):
    """One user's switches; a user without a row receives every alert meant for them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preferences"
    )
    connection = models.BooleanField(
        "Connection problems",
        default=True,
        help_text="An Exact Online connection needs re-authorization, or its access is about "
        "to expire. Sent to administrators.",
    )
    dead_events = models.BooleanField(
        "Failed change notices",
        default=True,
        help_text="Change notices from Exact Online failed for good and wait for a retry. "
        "Sent to administrators.",
    )
    daily_digest = models.BooleanField(
        "Daily digest of flagged items",
        default=True,
        help_text="Every morning at 06:40, the items newly flagged for review, with links to "
        "them. Sent to finance reviewers.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "alert preferences"
        verbose_name_plural = "alert preferences"

    def __str__(self) -> str:
        return f"Alerts for {self.user}"


class SentAlert(models.Model):
    """One alert that went out. The unique (kind, key) claims it: a condition already alerted
    (a connection state change, a batch of dead events, a day's digest) is never mailed twice,
    even by two workers at once. `covers_until` is where the next batch or digest starts."""

    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    key = models.CharField(max_length=120)
    covers_until = models.DateTimeField(null=True, blank=True)
    recipients = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="one_alert_per_key")]
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.key})"
