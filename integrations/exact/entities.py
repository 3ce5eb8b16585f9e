"""The parse functions that turn Exact's OData rows into frozen dataclasses (the endpoints,
$select lists and keys per entity are in specs.py). Pure functions only.

Field names follow ../shared/reference/exact-online.md §6 (sales invoices §6.1, sales orders
§6.2, purchase orders §6.3, logistics purchase invoices §6.4, GL accounts §6.5, cost centers §6.6).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from integrations.exact.dates import parse_date, parse_datetime
from integrations.exact.records import (  # noqa: F401  re-exported: the client boundary
    DeletedPage,
    DeletedRecord,
    ExactCostCenter,
    ExactDivisionInfo,
    ExactDocument,
    ExactGLAccount,
    ExactLine,
    ExactMe,
    SyncPage,
)
from integrations.exact.specs import (
    DELETED_TYPE_ENTITY,
    EntitySpec,
)

ZERO = Decimal("0")


# --- parsing ---------------------------------------------------------------------------------


def text(row: dict[str, Any], name: str) -> str:
    if not name:
        return ""
    value = row.get(name)
    return "" if value is None else str(value).strip()


def decimal(row: dict[str, Any], name: str) -> Decimal:
    value = row.get(name)
    if value is None or value == "":
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value))


def integer(row: dict[str, Any], name: str) -> int | None:
    value = row.get(name) if name else None
    if value is None or value == "":
        return None
    return int(value)


def guid_or_none(row: dict[str, Any], name: str) -> uuid.UUID | None:
    value = row.get(name) if name else None
    if not value:
        return None
    return uuid.UUID(str(value))


def _number(row: dict[str, Any], name: str) -> str:
    value = row.get(name)
    # Unconfirmed: an unassigned InvoiceNumber may read null or 0 (reference §6.1).
    if value in (None, "", 0):
        return ""
    return str(value).strip()


def parse_line(
    spec: EntitySpec,
    row: dict[str, Any],
    *,
    cost_center_field: str = "CostCenter",
    cost_unit_field: str = "CostUnit",
) -> ExactLine:
    return ExactLine(
        id=uuid.UUID(str(row["ID"])),
        line_number=integer(row, "LineNumber") or 0,
        description=text(row, "Description"),
        gl_account_id=guid_or_none(row, spec.line_gl_field),
        gl_account_code=text(row, "GLAccountCode"),
        cost_center=text(row, cost_center_field),
        cost_unit=text(row, cost_unit_field),
        quantity=decimal(row, "Quantity"),
        amount_fc=decimal(row, spec.line_amount_fc_field),
        amount_dc=decimal(row, "AmountDC"),
    )


def parse_document(
    spec: EntitySpec,
    division: int,
    header: dict[str, Any],
    lines: list[ExactLine] | tuple[ExactLine, ...],
    *,
    timestamp: int | None = None,
    lines_complete: bool = True,
    amounts_from_lines: bool = False,
) -> ExactDocument:
    """One document from a header row and its parsed lines.

    Credit notes come out negative whatever sign Exact sent. # Unconfirmed: Exact's sign
    convention per credit-note type (reference §6); when the header amount is positive the
    header and every line are negated, so a credit note's lines still sum to its total.
    """
    status = integer(header, spec.status_field)
    doc_type = integer(header, spec.type_field)
    ordered = tuple(sorted(lines, key=lambda ln: ln.line_number))
    if amounts_from_lines:
        amount_fc = sum((ln.amount_fc for ln in ordered), ZERO)
        amount_dc = sum((ln.amount_dc for ln in ordered), ZERO)
    else:
        amount_fc = decimal(header, spec.amount_fc_field)
        amount_dc = decimal(header, "AmountDC")
    is_credit = doc_type in spec.credit_types
    if is_credit and (amount_fc > 0 or amount_dc > 0):
        amount_fc, amount_dc = -abs(amount_fc), -abs(amount_dc)
        ordered = tuple(_negated(ln) for ln in ordered)
    return ExactDocument(
        entity=spec.entity,
        division=division,
        key=uuid.UUID(str(header[spec.key_field])),
        number=_number(header, spec.number_field),
        document_date=parse_date(header.get(spec.date_field)),
        currency=text(header, "Currency"),
        amount_fc=amount_fc,
        amount_dc=amount_dc,
        account_name=text(header, spec.account_name_field),
        account_code=text(header, spec.account_code_field),
        description="" if amounts_from_lines else text(header, "Description"),
        status=status,
        status_label=spec.status_labels.get(status, "") if status is not None else "",
        doc_type=doc_type,
        is_credit_note=is_credit,
        is_cancelled=status in spec.cancelled_statuses,
        modified=parse_datetime(header.get("Modified")),
        timestamp=timestamp if timestamp is not None else integer(header, "Timestamp"),
        lines=ordered,
        lines_complete=lines_complete,
    )


def _negated(line: ExactLine) -> ExactLine:
    from dataclasses import replace

    return replace(line, amount_fc=-line.amount_fc, amount_dc=-line.amount_dc)


def parse_me(row: dict[str, Any]) -> ExactMe:
    return ExactMe(
        user_id=guid_or_none(row, "UserID"),
        user_name=text(row, "UserName"),
        full_name=text(row, "FullName"),
        email=text(row, "Email"),
        current_division=integer(row, "CurrentDivision"),
        division_customer_name=text(row, "DivisionCustomerName"),
        server_utc_offset=integer(row, "ServerUtcOffset"),
    )


def parse_division(row: dict[str, Any]) -> ExactDivisionInfo:
    return ExactDivisionInfo(
        code=int(row["Code"]),
        description=text(row, "Description"),
        hid=text(row, "Hid"),
        currency=text(row, "Currency"),
        country=text(row, "Country"),
        status=integer(row, "Status"),
        blocking_status=integer(row, "BlockingStatus"),
        is_current=bool(row.get("Current")),
        division_move_date=parse_datetime(row.get("DivisionMoveDate")),
    )


def parse_gl_account(row: dict[str, Any]) -> ExactGLAccount:
    return ExactGLAccount(
        id=uuid.UUID(str(row["ID"])),
        code=text(row, "Code"),
        description=text(row, "Description"),
        is_blocked=bool(row.get("IsBlocked")),
    )


def parse_cost_center(row: dict[str, Any]) -> ExactCostCenter:
    return ExactCostCenter(
        id=uuid.UUID(str(row["ID"])),
        code=text(row, "Code"),
        description=text(row, "Description"),
        end_date=parse_date(row.get("EndDate")),
    )


def parse_deleted(row: dict[str, Any]) -> DeletedRecord:
    entity_type = int(row["EntityType"])
    entity, is_line = DELETED_TYPE_ENTITY.get(entity_type, (None, False))
    return DeletedRecord(
        entity_key=uuid.UUID(str(row["EntityKey"])),
        entity_type=entity_type,
        entity=entity,
        is_line=is_line,
        timestamp=int(row["Timestamp"]),
        deleted_at=parse_datetime(row.get("DeletedDate")),
    )
