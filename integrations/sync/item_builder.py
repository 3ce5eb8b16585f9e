"""Pure: an Exact document + a route + its mappings -> the Monday item to write (and why flagged)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from integrations.models import ColumnRole, Entity
from integrations.monday.columns import encode_for_column
from integrations.sync.links import exact_record_url
from mappings.resolve import MappingContext

REVIEW_LABEL = "Needs review"
REVIEW_OK_LABEL = "OK"
ENTITY_NOUNS = {
    Entity.SALES_INVOICE: "Invoice",
    Entity.PURCHASE_ORDER: "Purchase order",
    Entity.SALES_ORDER: "Sales order",
    Entity.PURCHASE_INVOICE: "Purchase invoice",
}


@dataclass(frozen=True)
class BuiltLine:
    exact_line_id: str
    name: str
    content_hash: str
    amount: Decimal | None = None


@dataclass(frozen=True)
class BuiltItem:
    exact_key: str
    name: str
    group_id: str
    column_values: dict[str, Any]
    reasons: tuple[str, ...]
    snapshot: dict[str, Any]
    content_hash: str
    lines: tuple[BuiltLine, ...] = field(default_factory=tuple)
    lines_complete: bool = True  # False: Exact sent only the changed lines (sales-order feed)

    @property
    def flagged(self) -> bool:
        return bool(self.reasons)

    def with_reason(self, reason: str) -> BuiltItem:
        """The same item with one more review reason (e.g. a value Monday refused)."""
        reasons = (*self.reasons, reason)
        return replace(self, reasons=reasons, snapshot={**self.snapshot, "reasons": list(reasons)})


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def lifecycle_label(doc) -> str:
    """The document's state as finance reads it: credit note, cancelled, draft/open/processed."""
    if doc.is_credit_note:
        return "Credit note"
    if doc.is_cancelled:
        return "Cancelled"
    return doc.status_label or (f"Status {doc.status}" if doc.status is not None else "")


def _line_amount(line) -> Decimal:
    return abs(line.amount_fc or Decimal(0))


def header_codes(doc, ctx: MappingContext) -> tuple[str, str, list[str]]:
    """The document's GL account and cost center codes, and notes on how they were chosen.

    Exact carries these on lines (sales invoice lines: a GL account GUID, mapped to its code
    through the reference data; order lines: no GL account at all). When lines disagree, the
    line with the largest amount decides; each subitem then shows its own.
    """
    notes: list[str] = []
    gl_code = getattr(doc, "gl_account_code", "") or ""
    cc_code = getattr(doc, "cost_center", "") or ""
    lines = sorted(doc.lines, key=_line_amount, reverse=True)
    if not gl_code and lines:
        line = lines[0]
        gl_code = line.gl_account_code or (
            ctx.gl_code_for(str(line.gl_account_id)) if line.gl_account_id else ""
        )
        if line.gl_account_id and not gl_code:
            notes.append(
                f"GL account {line.gl_account_id} is not in the reference data; "
                "refresh reference data for this division"
            )
    if not cc_code and lines:
        cc_code = lines[0].cost_center or ""
    return gl_code, cc_code, notes


def role_values(
    route, doc, ctx: MappingContext, columns: dict[str, dict]
) -> tuple[dict, list, dict]:
    """Python values per role, review reasons, and the snapshot of what the document says."""
    gl_code, cc_code, reasons = header_codes(doc, ctx)
    title = lambda role: columns.get(route.column(role), {}).get("title") or role  # noqa: E731
    gl_value, gl_reason = ctx.resolve("gl_account", gl_code, column_title=title("gl_account"))
    cc_value, cc_reason = ctx.resolve("cost_center", cc_code, column_title=title("cost_center"))
    if route.column(ColumnRole.GL_ACCOUNT):
        if gl_reason:
            reasons.append(gl_reason)
        elif not gl_code and doc.entity != Entity.SALES_INVOICE and doc.lines:
            reasons.append(
                f"Exact {ENTITY_NOUNS[doc.entity].lower()}s carry no GL account; "
                "set it on the board or leave the GL account column unmapped for this route"
            )
    if route.column(ColumnRole.COST_CENTER) and cc_reason:
        reasons.append(cc_reason)
    status = lifecycle_label(doc)
    values = {
        ColumnRole.DATE: doc.document_date,
        ColumnRole.AMOUNT: doc.amount_fc,
        ColumnRole.AMOUNT_DC: doc.amount_dc,
        ColumnRole.CURRENCY: doc.currency,
        ColumnRole.ACCOUNT: doc.account_name,
        ColumnRole.GL_ACCOUNT: gl_value,
        ColumnRole.COST_CENTER: cc_value,
        ColumnRole.EXACT_NUMBER: doc.number,
        ColumnRole.EXACT_KEY: str(doc.key),
        ColumnRole.STATUS: status,
        ColumnRole.DESCRIPTION: doc.description,
        ColumnRole.DIVISION: str(doc.division),
        ColumnRole.EXACT_LINK: {
            "url": exact_record_url(route.exact_connection.base_url or "", doc.division),
            "text": f"{ENTITY_NOUNS[doc.entity]} {doc.number}".strip(),
        },
    }
    snapshot = {
        "number": doc.number,
        "date": doc.document_date.isoformat() if doc.document_date else None,
        "amount": str(doc.amount_fc),
        "amount_dc": str(doc.amount_dc),
        "currency": doc.currency,
        "account": doc.account_name,
        "gl_account": gl_code,
        "gl_value": gl_value,
        "cost_center": cc_code,
        "cost_center_value": cc_value,
        "status": status,
    }
    return values, reasons, snapshot


def build_item(route, doc, ctx: MappingContext, columns: dict[str, dict]) -> BuiltItem:
    """Map one document onto the route's columns. Never raises for a mapping problem: the
    problem becomes a review reason and the item is still written."""
    values, reasons, snapshot = role_values(route, doc, ctx, columns)
    encoded: dict[str, Any] = {}
    for role, column_id in sorted(route.columns.items()):
        column = columns.get(column_id)
        if not column_id or column is None or role == ColumnRole.REVIEW_FLAG:
            continue
        value = values.get(role)
        if value is None or value == "":
            continue
        result = encode_for_column(column, value, create_labels=route.create_labels_if_missing)
        if result.problem:
            reasons.append(result.problem)
        else:
            encoded[column_id] = result.value
    flag_column = columns.get(route.column(ColumnRole.REVIEW_FLAG))
    if flag_column:
        label = REVIEW_LABEL if reasons else REVIEW_OK_LABEL
        flag = encode_for_column(flag_column, label, create_labels=True)
        if flag.value is not None:
            encoded[flag_column["id"]] = flag.value
    name = f"{ENTITY_NOUNS[doc.entity]} {doc.number} · {doc.account_name}".strip(" ·")[:255]
    group_id = route.division_groups.get(str(doc.division)) or route.group_id
    lines = tuple(_build_line(doc, line, ctx) for line in doc.lines)
    snapshot["reasons"] = list(reasons)
    content = {
        "name": name,
        "group": group_id,
        "columns": encoded,
        "lines": [ln.content_hash for ln in lines],
    }
    return BuiltItem(
        exact_key=str(doc.key),
        name=name,
        group_id=group_id,
        column_values=encoded,
        reasons=tuple(reasons),
        snapshot=snapshot,
        content_hash=digest(content),
        lines=lines,
        lines_complete=getattr(doc, "lines_complete", True),
    )


def _build_line(doc, line, ctx: MappingContext) -> BuiltLine:
    gl = line.gl_account_code or (
        ctx.gl_code_for(str(line.gl_account_id)) if line.gl_account_id else ""
    )
    parts = [f"{line.line_number}. {line.description or 'Line'}"]
    parts += [f"GL {gl}"] if gl else []
    parts += [f"CC {line.cost_center}"] if line.cost_center else []
    parts.append(f"{line.amount_fc} {doc.currency}".strip())
    name = " · ".join(parts)[:255]
    return BuiltLine(
        exact_line_id=str(line.id), name=name, content_hash=digest(name), amount=line.amount_fc
    )
