"""What ml-connector reads from Exact: per-entity endpoints, $select lists, keys, and the parse
functions that turn OData rows into frozen dataclasses. Data and pure functions only.

Field names follow ../shared/reference/exact-online.md §6 (sales invoices §6.1, sales orders
§6.2, purchase orders §6.3, logistics purchase invoices §6.4, GL accounts §6.5, cost centers §6.6).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
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
from integrations.models import Entity

ZERO = Decimal("0")


# --- entity specifications -----------------------------------------------------------------


@dataclass(frozen=True)
class SyncFeed:
    path: str  # under /api/v1/{division}/
    endpoint: str  # name for read/sync/Sync/SyncTimestamp
    kind: str  # "combined" (header LineNumber 0 + lines), "headers" or "lines"
    select: tuple[str, ...]
    cost_center_field: str = "CostCenter"
    cost_unit_field: str = "CostUnit"


@dataclass(frozen=True)
class EntitySpec:
    entity: str
    webhook_topic: str | None  # None: no confirmed topic, the entity is polled only
    header_path: str
    lines_path: str
    key_field: str
    line_parent_field: str
    number_field: str
    date_field: str
    account_name_field: str
    account_code_field: str
    amount_fc_field: str
    status_field: str
    type_field: str
    header_select: tuple[str, ...]
    line_select: tuple[str, ...]
    line_amount_fc_field: str = "AmountFC"
    line_gl_field: str = ""
    status_labels: dict[int, str] = field(default_factory=dict)
    credit_types: frozenset[int] = frozenset()
    cancelled_statuses: frozenset[int] = frozenset()
    sync_feeds: tuple[SyncFeed, ...] = ()
    deleted_types: tuple[int, ...] = ()
    deleted_line_types: tuple[int, ...] = ()


# fmt: off
_LINE_COMMON = ("ID", "LineNumber", "Description", "CostCenter", "CostUnit", "Quantity", "AmountDC")

SALES_INVOICE = EntitySpec(
    entity=Entity.SALES_INVOICE,
    webhook_topic="SalesInvoices",
    header_path="salesinvoice/SalesInvoices",
    lines_path="salesinvoice/SalesInvoiceLines",
    key_field="InvoiceID",
    line_parent_field="InvoiceID",
    number_field="InvoiceNumber",
    date_field="InvoiceDate",
    account_name_field="InvoiceToName",
    account_code_field="",
    amount_fc_field="AmountFC",
    status_field="Status",
    type_field="Type",
    header_select=(
        "InvoiceID", "InvoiceNumber", "InvoiceDate", "Currency", "AmountFC", "AmountDC",
        "InvoiceToName", "Description", "Status", "Type", "Modified",
    ),
    line_select=("InvoiceID", *_LINE_COMMON, "AmountFC", "GLAccount"),
    line_gl_field="GLAccount",
    status_labels={10: "Draft", 20: "Open", 50: "Processed"},
    credit_types=frozenset({8021, 8024}),
    sync_feeds=(
        SyncFeed(
            path="sync/SalesInvoice/SalesInvoices",
            endpoint="SalesInvoices",
            kind="combined",
            select=(
                "Timestamp", "ID", "InvoiceID", "LineNumber", "InvoiceNumber", "InvoiceDate",
                "Currency", "AmountFC", "AmountDC", "InvoiceToName", "Description", "Status",
                "Type", "Modified", "GLAccount", "CostCenter", "CostUnit", "Quantity",
            ),
        ),
    ),
    deleted_types=(13,),
)

SALES_ORDER = EntitySpec(
    entity=Entity.SALES_ORDER,
    webhook_topic="SalesOrders",
    header_path="salesorder/SalesOrders",
    lines_path="salesorder/SalesOrderLines",
    key_field="OrderID",
    line_parent_field="OrderID",
    number_field="OrderNumber",
    date_field="OrderDate",
    account_name_field="OrderedByName",
    account_code_field="",
    amount_fc_field="AmountFC",
    status_field="Status",
    type_field="",
    header_select=(
        "OrderID", "OrderNumber", "OrderDate", "Currency", "AmountFC", "AmountDC",
        "OrderedByName", "Description", "Status", "Modified",
    ),
    line_select=("OrderID", *_LINE_COMMON, "AmountFC"),
    status_labels={12: "Open", 20: "Partial", 21: "Complete", 45: "Cancelled"},
    cancelled_statuses=frozenset({45}),
    sync_feeds=(
        SyncFeed(
            path="sync/SalesOrder/SalesOrderHeaders",
            endpoint="SalesOrderHeaders",
            kind="headers",
            select=(
                "Timestamp", "ID", "OrderID", "OrderNumber", "OrderDate", "Currency", "AmountFC",
                "AmountDC", "OrderedByName", "Description", "Status", "Modified",
            ),
        ),
        SyncFeed(
            path="sync/SalesOrder/SalesOrderLines",
            endpoint="SalesOrderLines",
            kind="lines",
            select=("Timestamp", "OrderID", *_LINE_COMMON, "AmountFC"),
        ),
    ),
    deleted_types=(32,),
    deleted_line_types=(33,),
)

PURCHASE_ORDER = EntitySpec(
    entity=Entity.PURCHASE_ORDER,
    # Unconfirmed: "PurchaseOrders" is only reported in topic lists (reference §7.3).
    webhook_topic="PurchaseOrders",
    header_path="purchaseorder/PurchaseOrders",
    lines_path="purchaseorder/PurchaseOrderLines",
    key_field="PurchaseOrderID",
    line_parent_field="PurchaseOrderID",
    number_field="OrderNumber",
    date_field="OrderDate",
    account_name_field="SupplierName",
    account_code_field="SupplierCode",
    amount_fc_field="AmountFC",
    status_field="OrderStatus",
    type_field="",
    header_select=(
        "PurchaseOrderID", "OrderNumber", "OrderDate", "Currency", "AmountFC", "AmountDC",
        "SupplierName", "SupplierCode", "Description", "OrderStatus", "Modified",
    ),
    # Regular PurchaseOrderLines carry the codes in CostCenter/CostUnit (§6.3); the feed differs.
    line_select=("PurchaseOrderID", *_LINE_COMMON, "AmountFC"),
    status_labels={10: "Open", 20: "Partial", 30: "Complete", 40: "Cancelled"},
    cancelled_statuses=frozenset({40}),
    sync_feeds=(
        SyncFeed(
            path="sync/PurchaseOrder/PurchaseOrders",
            endpoint="PurchaseOrders",
            kind="combined",
            # On this feed CostCenter/CostUnit are GUIDs; the codes come separately (§6.3).
            select=(
                "Timestamp", "ID", "PurchaseOrderID", "LineNumber", "OrderNumber", "OrderDate",
                "Currency", "AmountFC", "AmountDC", "SupplierName", "SupplierCode",
                "Description", "OrderStatus", "Modified", "CostCenterCode", "CostUnitCode",
                "Quantity",
            ),
            cost_center_field="CostCenterCode",
            cost_unit_field="CostUnitCode",
        ),
    ),
    deleted_types=(22,),
)

PURCHASE_INVOICE = EntitySpec(
    entity=Entity.PURCHASE_INVOICE,
    webhook_topic=None,  # Unconfirmed: no topic found (reference §7.3) -> polled on Modified.
    header_path="purchase/PurchaseInvoices",
    lines_path="purchase/PurchaseInvoiceLines",
    key_field="ID",
    line_parent_field="InvoiceID",
    number_field="EntryNumber",
    date_field="InvoiceDate",
    account_name_field="",
    account_code_field="",
    amount_fc_field="Amount",
    status_field="Status",
    type_field="Type",
    header_select=(
        "ID", "EntryNumber", "InvoiceDate", "Currency", "Amount", "AmountDC", "Description",
        "Status", "Type", "Modified",
    ),
    line_select=("InvoiceID", *_LINE_COMMON, "Amount"),
    line_amount_fc_field="Amount",
    status_labels={10: "Draft", 20: "Open", 50: "Processed"},
    credit_types=frozenset({8031, 8034}),
)
# fmt: on

ENTITIES: dict[str, EntitySpec] = {
    spec.entity: spec for spec in (SALES_INVOICE, SALES_ORDER, PURCHASE_ORDER, PURCHASE_INVOICE)
}
DELETED_TYPE_ENTITY: dict[int, tuple[str, bool]] = {
    **{t: (s.entity, False) for s in ENTITIES.values() for t in s.deleted_types},
    **{t: (s.entity, True) for s in ENTITIES.values() for t in s.deleted_line_types},
}


def spec_for(entity: str) -> EntitySpec:
    try:
        return ENTITIES[entity]
    except KeyError:
        raise ValueError(f"unknown entity {entity!r}") from None


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
