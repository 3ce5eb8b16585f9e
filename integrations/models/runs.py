"""Sync runs: one row per first backfill or "Sync now" of a route, with the counts people watch
(read, on the board, flagged, failed, the expected total) and its state (running, paused, done).

Routine scheduled polls of a route that is caught up make no row: their work is small and the
polling cursors already record it. A scheduled poll does count into a run that is still open
(a backfill the job timeout cut short), so the run reaches its end.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from integrations.models.routes import Route


class SyncRun(models.Model):
    class Kind(models.TextChoices):
        BACKFILL = "backfill", "First backfill"
        MANUAL = "manual", "Sync now"

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        DONE = "done", "Done"

    OPEN_STATES = (State.QUEUED, State.RUNNING, State.PAUSED)

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="sync_runs")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    # A pause is asked for here and honoured by the poll at its next batch boundary.
    pause_requested = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Seconds spent paused, so the rate (documents a second) counts working time only.
    paused_seconds = models.FloatField(default=0)
    paused_at = models.DateTimeField(null=True, blank=True)
    # None: Exact gave no total (see sync/runs.py expected_total); the screens then say "so far".
    expected = models.PositiveIntegerField(null=True, blank=True)
    read = models.PositiveIntegerField(default=0)
    written = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    batches = models.PositiveIntegerField(default=0)
    feed_rows = models.PositiveIntegerField(default=0)  # Exact sync rows read (for the ETA)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["route", "state"])]
        verbose_name = "sync run"

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.route} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES
