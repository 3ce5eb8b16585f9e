"""The entity types and endpoints the Exact Online sandbox serves, with their Edm property types.

Field lists follow ../shared/reference/exact-online.md §2 and §6 (a subset of Exact's real
entities: the fields ml-connector may select). A property that is not listed here answers 400,
as on Exact.
"""

from __future__ import annotations

from dataclasses import dataclass

GUID = "Edm.Guid"
INT = "Edm.Int32"
INT64 = "Edm.Int64"
STR = "Edm.String"
DBL = "Edm.Double"
BOOL = "Edm.Boolean"
DT = "Edm.DateTime"  # a date-only value is a `date`, a moment an aware `datetime`


def _fields(spec: str) -> dict[str, str]:
    """'Name:type Name2:type' → dict; the type letters keep the tables below readable."""
    letters = {"g": GUID, "i": INT, "l": INT64, "s": STR, "f": DBL, "b": BOOL, "d": DT}
    out = {}
    for item in spec.split():
        name, kind = item.split(":")
        out[name] = letters[kind]
    return out


SI_HEADER = _fields(
    "InvoiceID:g InvoiceNumber:i InvoiceDate:d DueDate:d OrderDate:d Created:d Modified:d "
    "InvoiceTo:g InvoiceToName:s InvoiceToContactPerson:g OrderedBy:g OrderedByName:s "
    "DeliverTo:g DeliverToName:s Currency:s AmountFC:f AmountFCExclVat:f AmountDC:f "
    "VATAmountFC:f VATAmountDC:f AmountDiscount:f AmountDiscountExclVat:f Description:s "
    "YourRef:s Remarks:s OrderNumber:i Journal:s PaymentCondition:s PaymentReference:s "
    "Salesperson:g Status:i StatusDescription:s Type:i TypeDescription:s Division:i"
)
SI_LINE = _fields(
    "ID:g InvoiceID:g LineNumber:i Item:g ItemCode:s ItemDescription:s Description:s "
    "GLAccount:g GLAccountDescription:s CostCenter:s CostCenterDescription:s CostUnit:s "
    "CostUnitDescription:s Quantity:f UnitPrice:f NetPrice:f Discount:f AmountFC:f AmountDC:f "
    "VATCode:s VATPercentage:f VATAmountFC:f VATAmountDC:f Project:g SalesOrder:g Division:i"
)
PO_HEADER = _fields(
    "PurchaseOrderID:g OrderNumber:i OrderDate:d ReceiptDate:d Created:d Modified:d Supplier:g "
    "SupplierCode:s SupplierName:s SupplierContact:g Currency:s ExchangeRate:f AmountFC:f "
    "AmountDC:f VATAmount:f Description:s YourRef:s Remarks:s OrderStatus:i ReceiptStatus:i "
    "InvoiceStatus:i ApprovalStatus:i Division:i"
)
PO_LINE = _fields(
    "ID:g PurchaseOrderID:g LineNumber:i Item:g ItemCode:s ItemDescription:s Description:s "
    "Quantity:f QuantityInPurchaseUnits:f UnitPrice:f NetPrice:f Discount:f AmountFC:f "
    "AmountDC:f VATAmount:f VATCode:s VATPercentage:f CostCenter:s CostUnit:s ReceiptDate:d "
    "ReceivedQuantity:f InvoicedQuantity:f Project:g Expense:g Division:i"
)
SO_HEADER = _fields(
    "OrderID:g OrderNumber:i OrderDate:d DeliveryDate:d Created:d Modified:d OrderedBy:g "
    "OrderedByName:s InvoiceTo:g InvoiceToName:s DeliverTo:g Currency:s AmountFC:f "
    "AmountFCExclVat:f AmountDC:f AmountDiscount:f Description:s YourRef:s Remarks:s Status:i "
    "DeliveryStatus:i InvoiceStatus:i ApprovalStatus:i Division:i"
)
SO_LINE = _fields(
    "ID:g OrderID:g OrderNumber:i LineNumber:i Item:g ItemCode:s ItemDescription:s "
    "Description:s Quantity:f QuantityDelivered:f QuantityInvoiced:f UnitPrice:f NetPrice:f "
    "Discount:f AmountFC:f AmountDC:f VATAmount:f VATCode:s VATPercentage:f CostCenter:s "
    "CostUnit:s CostPriceFC:f DeliveryDate:d DeliveryStatus:i InvoiceStatus:i OrderStatus:i "
    "Project:g Division:i"
)
PI_HEADER = _fields(
    "ID:g EntryNumber:i YourRef:s InvoiceDate:d DueDate:d Created:d Modified:d Supplier:g "
    "ContactPerson:g Currency:s ExchangeRate:f Amount:f AmountDC:f AmountFCExclVat:f "
    "VATAmount:f AmountDiscount:f Description:s Remarks:s Journal:s PaymentCondition:s "
    "PaymentReference:s FinancialYear:i FinancialPeriod:i Status:i Type:i Source:i "
    "Warehouse:g Division:i"
)
PI_LINE = _fields(
    "ID:g InvoiceID:g LineNumber:i Item:g PurchaseOrderLine:g Description:s Quantity:f "
    "QuantityInDefaultUnits:f UnitPrice:f NetPrice:f Discount:f Amount:f AmountDC:f "
    "VATAmount:f VATCode:s VATPercentage:f CostCenter:s CostUnit:s Project:g Expense:g Division:i"
)
GL_ACCOUNT = _fields(
    "ID:g Code:s Description:s SearchCode:s Type:i TypeDescription:s BalanceSide:s "
    "BalanceType:s IsBlocked:b VATCode:s Costcenter:s Costunit:s Created:d Modified:d Division:i"
)
COST_CENTER = _fields(
    "ID:g Code:s Description:s EndDate:d Active:b Created:d Modified:d Division:i"
)
ACCOUNT = _fields(
    "ID:g Code:s Name:s SearchCode:s IsSupplier:b IsSales:b Status:s Blocked:b StartDate:d "
    "EndDate:d VATNumber:s ChamberOfCommerce:s Email:s City:s Country:s Created:d Modified:d "
    "Division:i"
)
DIVISION = _fields(
    "Code:i Description:s Hid:l Currency:s Country:s Status:i BlockingStatus:i Current:b "
    "Customer:g CustomerName:s DivisionMoveDate:d DivisionHRLinkUnlinkDate:d Created:d Modified:d"
)
DELETED = _fields("Timestamp:l ID:g EntityKey:g EntityType:i DeletedBy:g DeletedDate:d Division:i")
WEBHOOK = _fields(
    "ID:g CallbackURL:s ClientID:g Topic:s Description:s Division:i UserID:g Created:d "
    "Creator:g CreatorFullName:s"
)
ME = _fields(
    "UserID:g UserName:s FullName:s Email:s CurrentDivision:i AccountingDivision:i "
    "DivisionCustomer:g DivisionCustomerName:s LanguageCode:s Legislation:i ServerTime:s "
    "ServerUtcOffset:i"
)
SYNC_TIMESTAMP = _fields("API:s Modified:d TimeStampAsBigInt:l")

STAMP = {"Timestamp": INT64}
# Sync rows repeat the header fields on every line row (§5.1, §6.1, §6.3).
SI_SYNC = {**SI_HEADER, **SI_LINE, **STAMP, "SalesOrderNumber": INT}
# On the purchase-order sync feed CostCenter/CostUnit are GUIDs with separate codes (§6.3).
PO_SYNC = {
    **PO_HEADER,
    **PO_LINE,
    **STAMP,
    "CostCenter": GUID,
    "CostCenterCode": STR,
    "CostCenterDescription": STR,
    "CostUnit": GUID,
    "CostUnitCode": STR,
    "CostUnitDescription": STR,
}
SO_HEADER_SYNC = {"ID": GUID, **SO_HEADER, **STAMP, "VATAmount": DBL}
SO_LINE_SYNC = {**SO_LINE, **STAMP}


@dataclass(frozen=True)
class Endpoint:
    path: str  # canonical spelling after /api/v1/{division}/
    type_name: str  # Exact.Web.Api.Models.<type_name>, in __metadata and error messages
    fields: dict[str, str]
    key: str  # the property that identifies a row (used by (guid'…') and $skiptoken)
    source: str  # what the store yields for this endpoint
    kind: str = "regular"  # regular | bulk | sync | function | webhooks
    page_size: int = 60
    mandatory_filter: bool = False


# Reference §3.4: single and bulk endpoints that have a sync counterpart refuse an unfiltered
# GET ("mandatory filtering"); Exact has been adding them since July 2021, so the sandbox
# applies it to every one of them. Endpoints without a sync feed (hrm/Costcenters,
# purchase/PurchaseInvoices, system/Divisions) answer unfiltered.
MANDATORY = {"mandatory_filter": True}

ENDPOINTS = [
    Endpoint(
        "salesinvoice/SalesInvoices", "SalesInvoice", SI_HEADER, "InvoiceID", "si:h", **MANDATORY
    ),
    Endpoint(
        "salesinvoice/SalesInvoiceLines", "SalesInvoiceLine", SI_LINE, "ID", "si:l", **MANDATORY
    ),
    Endpoint(
        "purchaseorder/PurchaseOrders",
        "PurchaseOrder",
        PO_HEADER,
        "PurchaseOrderID",
        "po:h",
        **MANDATORY,
    ),
    Endpoint(
        "purchaseorder/PurchaseOrderLines", "PurchaseOrderLine", PO_LINE, "ID", "po:l", **MANDATORY
    ),
    Endpoint("salesorder/SalesOrders", "SalesOrder", SO_HEADER, "OrderID", "so:h", **MANDATORY),
    Endpoint("salesorder/SalesOrderLines", "SalesOrderLine", SO_LINE, "ID", "so:l", **MANDATORY),
    Endpoint("purchase/PurchaseInvoices", "PurchaseInvoice", PI_HEADER, "ID", "pi:h"),
    Endpoint("purchase/PurchaseInvoiceLines", "PurchaseInvoiceLine", PI_LINE, "ID", "pi:l"),
    Endpoint("financial/GLAccounts", "GLAccount", GL_ACCOUNT, "ID", "gl", **MANDATORY),
    Endpoint("hrm/Costcenters", "Costcenter", COST_CENTER, "ID", "cc"),
    Endpoint("crm/Accounts", "Account", ACCOUNT, "ID", "acc", **MANDATORY),
    Endpoint("system/Divisions", "SystemDivision", DIVISION, "Code", "divisions"),
    # Bulk (§5.4): GET only, 1,000 rows a page, $select mandatory, $filter allowed; every bulk
    # endpoint here has a sync counterpart, so mandatory filtering applies too (§3.4).
    *(
        Endpoint(
            f"bulk/{path}", name, fields, key, source, kind="bulk", page_size=1000, **MANDATORY
        )
        for path, name, fields, key, source in (
            ("SalesInvoice/SalesInvoices", "SalesInvoice", SI_HEADER, "InvoiceID", "si:h"),
            ("SalesInvoice/SalesInvoiceLines", "SalesInvoiceLine", SI_LINE, "ID", "si:l"),
            ("SalesOrder/SalesOrders", "SalesOrder", SO_HEADER, "OrderID", "so:h"),
            ("SalesOrder/SalesOrderLines", "SalesOrderLine", SO_LINE, "ID", "so:l"),
            ("Financial/GLAccounts", "GLAccount", GL_ACCOUNT, "ID", "gl"),
            ("CRM/Accounts", "Account", ACCOUNT, "ID", "acc"),
        )
    ),
    Endpoint("hrm/Divisions", "Division", DIVISION, "Code", "divisions"),
    Endpoint(
        "webhooks/WebhookSubscriptions",
        "WebhookSubscription",
        WEBHOOK,
        "ID",
        "webhooks",
        kind="webhooks",
    ),
    Endpoint(
        "sync/SalesInvoice/SalesInvoices",
        "SyncSalesInvoice",
        SI_SYNC,
        "Timestamp",
        "si:s",
        kind="sync",
        page_size=1000,
    ),
    Endpoint(
        "sync/PurchaseOrder/PurchaseOrders",
        "SyncPurchaseOrder",
        PO_SYNC,
        "Timestamp",
        "po:s",
        kind="sync",
        page_size=1000,
    ),
    Endpoint(
        "sync/SalesOrder/SalesOrderHeaders",
        "SyncSalesOrderHeader",
        SO_HEADER_SYNC,
        "Timestamp",
        "so:h",
        kind="sync",
        page_size=1000,
    ),
    Endpoint(
        "sync/SalesOrder/SalesOrderLines",
        "SyncSalesOrderLine",
        SO_LINE_SYNC,
        "Timestamp",
        "so:l",
        kind="sync",
        page_size=1000,
    ),
    Endpoint(
        "sync/Financial/GLAccounts",
        "SyncGLAccount",
        {**GL_ACCOUNT, **STAMP},
        "Timestamp",
        "gl",
        kind="sync",
        page_size=1000,
    ),
    Endpoint(
        "sync/CRM/Accounts",
        "SyncAccount",
        {**ACCOUNT, **STAMP},
        "Timestamp",
        "acc",
        kind="sync",
        page_size=1000,
    ),
    Endpoint(
        "sync/Deleted", "SyncDeleted", DELETED, "Timestamp", "deleted", kind="sync", page_size=1000
    ),
    Endpoint(
        "read/sync/Sync/SyncTimestamp",
        "SyncTimestamp",
        SYNC_TIMESTAMP,
        "TimeStampAsBigInt",
        "synctimestamp",
        kind="function",
    ),
]
BY_PATH = {e.path.lower(): e for e in ENDPOINTS}
ME_ENDPOINT = Endpoint("current/Me", "Me", ME, "UserID", "me")

# sync/Deleted EntityType codes (§5.2) and webhook topics (§7.3) per store source.
DELETED_TYPES = {"si": 13, "po": 22, "so:h": 32, "so:l": 33, "gl": 7, "acc": 2}
TOPICS = {"si": "SalesInvoices", "po": "PurchaseOrders", "so": "SalesOrders", "acc": "Accounts"}
# read/sync/Sync/SyncTimestamp accepts these endPoint values (§5.3) → store source.
SYNC_TIMESTAMP_SOURCES = {
    "SalesInvoices": "si:s",
    "PurchaseOrders": "po:s",
    "SalesOrderHeaders": "so:h",
    "SalesOrderLines": "so:l",
}
