"""Reference data from Exact (GL accounts, cost centers) and the value mappings onto Monday."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from integrations.models import ExactDivision, Route


class GLAccount(models.Model):
    division = models.ForeignKey(
        ExactDivision, on_delete=models.CASCADE, related_name="gl_accounts"
    )
    exact_id = models.CharField(max_length=36)
    code = models.CharField(max_length=40, db_index=True)
    description = models.CharField(max_length=255, blank=True)
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "GL account"
        unique_together = [("division", "exact_id")]
        ordering = ["division", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.description}".strip()


class CostCenter(models.Model):
    division = models.ForeignKey(
        ExactDivision, on_delete=models.CASCADE, related_name="cost_centers"
    )
    exact_id = models.CharField(max_length=36)
    code = models.CharField(max_length=40, db_index=True)
    description = models.CharField(max_length=255, blank=True)
    active = models.BooleanField(default=True)
    end_date = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        unique_together = [("division", "exact_id")]
        ordering = ["division", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.description}".strip()


class ValueMapping(models.Model):
    """An Exact code (GL account or cost center) -> the value written in a route's Monday column."""

    class Kind(models.TextChoices):
        GL_ACCOUNT = "gl_account", "GL account"
        COST_CENTER = "cost_center", "Cost center"

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="mappings")
    division = models.ForeignKey(ExactDivision, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    code = models.CharField(max_length=40)
    monday_value = models.CharField(max_length=255)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["route", "division", "kind", "code"], name="one_mapping_per_code"
            )
        ]
        ordering = ["route", "division", "kind", "code"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code} → {self.monday_value}"
