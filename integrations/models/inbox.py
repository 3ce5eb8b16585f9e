"""The webhook inbox (every accepted Exact event, until done or dead) and the polling cursors
(the sync feeds' Timestamp per route and division)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from integrations.models.routes import Route


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


class InboxJob(models.Model):
    """The jobs of one division and topic (sync/job_queue.py): whether one is queued and not
    started (the events of a burst ride on it), and whether one is running (one at a time: they
    would share the same Exact and Monday.com budgets)."""

    division = models.IntegerField()
    topic = models.CharField(max_length=80)
    queued_at = models.DateTimeField(null=True, blank=True)  # None: no job waiting
    running_since = models.DateTimeField(null=True, blank=True)  # None: no job running

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["division", "topic"], name="one_inbox_job_per_topic")
        ]

    def __str__(self) -> str:
        return f"{self.topic} / {self.division}"


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
