"""API calls counted by system and HTTP status, shared by every process (integrations/api_calls.py
writes them, the metrics endpoint reads them). Never deleted, so the counts only grow."""

from __future__ import annotations

from django.db import models


class ApiCallCount(models.Model):
    """How many calls to one system ended with one status since the database was created."""

    system = models.CharField(max_length=10)  # "exact" or "monday"
    status = models.CharField(max_length=20)  # "200", "429", ... or "timeout" / "unreachable"
    count = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        unique_together = [("system", "status")]
        verbose_name = "API call count"

    def __str__(self) -> str:
        return f"{self.system} {self.status}: {self.count}"
