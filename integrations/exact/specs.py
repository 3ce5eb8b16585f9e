"""Per-entity specifications: the Exact endpoints, keys, $select lists, status and type codes
ml-connector uses for each document type, and the sync feeds and deleted types behind them.

Field names follow ../shared/reference/exact-online.md §6 (sales invoices §6.1, sales orders
§6.2, purchase orders §6.3, logistics purchase invoices §6.4); sync feeds §5.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from integrations.models import Entity


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
    # The bulk endpoint of the lines (reference §5.4-§5.5: 1,000 rows a page), where one exists.
    bulk_lines_path: str | None = None


# fmt: off
_LINE_COMMON = ("ID", "LineNumber", "Description", "CostCenter", "CostUnit", "Quantity", "AmountDC")


SALES_INVOICE = EntitySpec(
    entity=Entity.SALES_INVOICE,
    webhook_topic="SalesInvoices",
    header_path="salesinvoice/SalesInvoices",
    lines_path="salesinvoice/SalesInvoiceLines",
    bulk_lines_path="bulk/SalesInvoice/SalesInvoiceLines",
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
    bulk_lines_path="bulk/SalesOrder/SalesOrderLines",
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
