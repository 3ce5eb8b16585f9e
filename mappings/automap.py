"""Map codes onto the board labels that name them: "8000" → "8000 Omzet diensten", "P101" → "P101".

Most finance boards label their GL account and cost center columns with the Exact codes, so
mapping those by hand is busywork. Only codes without a mapping are touched (a choice someone
made stays), and a code the board has no label of its own for stays unmapped: its items are
flagged and a person decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.models import Route
from mappings import services, values
from mappings.models import CostCenter, GLAccount, ValueMapping

REFERENCE_MODELS = {
    ValueMapping.Kind.GL_ACCOUNT: GLAccount,
    ValueMapping.Kind.COST_CENTER: CostCenter,
}


@dataclass(frozen=True)
class AutomapResult:
    mapped: int  # codes given a mapping now
    unmatched: int  # codes without a mapping and without a label of their own on the board


def label_naming(code: str, labels: tuple[str, ...]) -> str | None:
    """The label that is the code, or starts with the code and a space ("8000 Omzet diensten")."""
    for label in labels:
        if label == code or label.startswith(f"{code} "):
            return label
    return None


def map_matching_labels(route: Route, *, user=None) -> AutomapResult:
    """Give every unmapped GL account and cost center of the route's divisions the board label
    that names its code. Audited per mapping (mappings.services). Idempotent."""
    mapped = unmatched = 0
    divisions = list(route.divisions.all())
    for kind, model in REFERENCE_MODELS.items():
        allowed = values.column_values(route, kind)
        if allowed is None:  # the route has no column for this kind
            continue
        taken = set(
            ValueMapping.objects.filter(route=route, kind=kind).values_list("division_id", "code")
        )
        for division in divisions:
            codes = model.objects.filter(division=division).values_list("code", flat=True)
            for code in sorted(set(codes)):
                if (division.pk, code) in taken:
                    continue
                label = label_naming(code, allowed.values)
                if label is None:
                    unmatched += 1
                    continue
                services.set_mappings(route, division, kind, [code], label, user=user)
                mapped += 1
    return AutomapResult(mapped=mapped, unmatched=unmatched)
