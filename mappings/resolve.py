"""Exact code -> Monday value lookups for one route and division, with review reasons."""

from __future__ import annotations

from dataclasses import dataclass, field

from mappings.models import CostCenter, GLAccount, ValueMapping

KIND_LABELS = {"gl_account": "GL account", "cost_center": "Cost center"}


@dataclass(frozen=True)
class MappingContext:
    """Everything needed to map one division's documents on one route (loaded once a batch)."""

    route_id: int
    division: int
    gl_by_id: dict[str, tuple[str, str]] = field(default_factory=dict)  # exact id -> (code, descr)
    descriptions: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, code) -> descr
    values: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, code) -> value

    def gl_code_for(self, gl_account_id: str) -> str:
        return self.gl_by_id.get(gl_account_id.lower(), ("", ""))[0]

    def describe(self, kind: str, code: str) -> str:
        text = self.descriptions.get((kind, code), "")
        return f"{code} {text}".strip()

    def resolve(self, kind: str, code: str, *, column_title: str) -> tuple[str | None, str | None]:
        """(monday value, None) when mapped; (None, reason) when not. Empty code: (None, None)."""
        if not code:
            return None, None
        value = self.values.get((kind, code))
        if value is not None:
            return value, None
        label = KIND_LABELS.get(kind, kind)
        return (
            None,
            f"{label} {self.describe(kind, code)} has no mapping for the {column_title} column",
        )


def load_context(route, division: int) -> MappingContext:
    """Three queries: the division's GL accounts, cost centers and this route's mappings."""
    gl_rows = GLAccount.objects.filter(
        division__connection_id=route.exact_connection_id, division__code=division
    ).values_list("exact_id", "code", "description")
    cc_rows = CostCenter.objects.filter(
        division__connection_id=route.exact_connection_id, division__code=division
    ).values_list("code", "description")
    mapping_rows = ValueMapping.objects.filter(route=route, division__code=division).values_list(
        "kind", "code", "monday_value"
    )
    descriptions = {("gl_account", code): descr for _, code, descr in gl_rows}
    descriptions.update({("cost_center", code): descr for code, descr in cc_rows})
    return MappingContext(
        route_id=route.pk,
        division=division,
        gl_by_id={str(eid).lower(): (code, descr) for eid, code, descr in gl_rows},
        descriptions=descriptions,
        values={(kind, code): value for kind, code, value in mapping_rows},
    )
