"""Document rules of the sandbox: line defaults, header totals, and the sync row shapes.

Sales invoices, purchase orders, sales orders and purchase invoices differ in field names
(reference §6.1-§6.4); `KINDS` names them once. Amounts are floats, as Exact's Edm.Double, and
are summed without rounding, so a client that does not parse to Decimal sees float noise.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from integrations.sandbox import exact_schema as schema

VAT_RATE = 0.21
EUR_RATES = {"EUR": 1.0, "USD": 0.92, "GBP": 1.17, "CHF": 1.05}  # EUR per unit
SI_STATUS = {10: "Draft", 20: "Open", 50: "Processed"}
SI_TYPES = {
    8020: "Sales invoice",
    8021: "Sales credit note",
    8023: "Direct sales invoice",
    8024: "Direct credit note",
}
CREDIT_TYPES = {8021, 8024, 8031, 8034}


@dataclass(frozen=True)
class Kind:
    key: str  # header key, also the parent key on lines
    number: str
    first_number: int
    header: dict
    line: dict
    amount: str  # line amount field in document currency
    vat: str  # line VAT amount field
    party: str  # header field holding the account GUID
    party_name: str | None


KINDS = {
    "si": Kind(
        "InvoiceID",
        "InvoiceNumber",
        26000001,
        schema.SI_HEADER,
        schema.SI_LINE,
        "AmountFC",
        "VATAmountFC",
        "InvoiceTo",
        "InvoiceToName",
    ),
    "po": Kind(
        "PurchaseOrderID",
        "OrderNumber",
        5001,
        schema.PO_HEADER,
        schema.PO_LINE,
        "AmountFC",
        "VATAmount",
        "Supplier",
        "SupplierName",
    ),
    "so": Kind(
        "OrderID",
        "OrderNumber",
        7001,
        schema.SO_HEADER,
        schema.SO_LINE,
        "AmountFC",
        "VATAmount",
        "OrderedBy",
        "OrderedByName",
    ),
    "pi": Kind(
        "ID",
        "EntryNumber",
        17000001,
        schema.PI_HEADER,
        schema.PI_LINE,
        "Amount",
        "VATAmount",
        "Supplier",
        None,
    ),
}
LINE_PARENT = {"si": "InvoiceID", "po": "PurchaseOrderID", "so": "OrderID", "pi": "InvoiceID"}


def source_key(source: str) -> str:
    if source == "divisions":
        return "Code"
    if ":" in source:
        kind, part = source.split(":")
        return KINDS[kind].key if part == "h" else "ID"
    return "ID"


def rate(currency: str, division_currency: str) -> float:
    return EUR_RATES.get(currency, 1.0) / EUR_RATES.get(division_currency, 1.0)


def header_defaults(
    kind: str, store, division: int, account_id: str, when, currency: str, extra: dict
) -> dict:
    """The header fields a caller does not give: party names, dates, descriptions."""
    spec = KINDS[kind]
    unknown = set(extra) - set(spec.header)
    if unknown:
        raise ValueError(f"Unknown header fields for {kind}: {sorted(unknown)}")
    account = store.tables.get((division, "acc"), {}).get(str(account_id).lower())
    if account is None:
        raise ValueError(f"Account {account_id} does not exist in division {division}.")
    head = {spec.party: account["ID"], "Currency": currency, "Description": ""}
    if spec.party_name:
        head[spec.party_name] = account["Name"]
    if kind == "si":
        head.update(
            InvoiceDate=when,
            DueDate=when + timedelta(days=30),
            OrderedBy=account["ID"],
            OrderedByName=account["Name"],
            Journal="70",
        )
    elif kind == "po":
        head.update(
            OrderDate=when,
            ReceiptDate=when + timedelta(days=14),
            SupplierCode=account["Code"],
            ExchangeRate=rate(currency, _cur(store, division)),
            ReceiptStatus=10,
            InvoiceStatus=10,
            ApprovalStatus=1,
        )
    elif kind == "so":
        head.update(
            OrderDate=when,
            DeliveryDate=when + timedelta(days=7),
            InvoiceTo=account["ID"],
            InvoiceToName=account["Name"],
            DeliveryStatus=12,
            InvoiceStatus=12,
            ApprovalStatus=1,
        )
    else:
        head.update(
            InvoiceDate=when,
            DueDate=when + timedelta(days=30),
            Journal="60",
            ExchangeRate=rate(currency, _cur(store, division)),
            FinancialYear=when.year,
            FinancialPeriod=when.month,
            Source=1,
        )
    head.update(extra)
    return head


def _cur(store, division: int) -> str:
    return store.division(division)["Currency"]


def build_line(kind: str, doc: dict, number: int, given: dict, store) -> dict:
    spec = KINDS[kind]
    unknown = set(given) - set(spec.line)
    if unknown:
        raise ValueError(f"Unknown line fields for {kind}: {sorted(unknown)}")
    head = doc["header"]
    division = head["Division"]
    line = {name: None for name in spec.line}
    quantity = float(given.get("Quantity", 1.0))
    price = given.get("NetPrice", given.get("UnitPrice"))
    amount = given.get(spec.amount)
    if amount is None:
        amount = quantity * float(price or 0.0)
    amount = float(amount)
    if head.get("Type") in CREDIT_TYPES and amount > 0:
        # Unconfirmed (§6): sign per credit type beyond "credit = negative".
        amount, quantity = -amount, -abs(quantity)
    if price is None:
        price = amount / quantity if quantity else amount
    fx = rate(head["Currency"], _cur(store, division))
    line.update(
        ID=store.new_id(),
        LineNumber=number,
        Quantity=quantity,
        UnitPrice=float(price),
        NetPrice=float(price),
        Discount=0.0,
        VATCode="2",
        VATPercentage=VAT_RATE,
        Division=division,
        Description="",
    )
    line[LINE_PARENT[kind]] = head[spec.key]
    line[spec.amount] = amount
    line["AmountDC"] = amount * fx
    line[spec.vat] = round(amount * VAT_RATE, 2)
    if kind == "si":
        line["VATAmountDC"] = round(amount * VAT_RATE, 2) * fx
    if kind == "so":
        line.update(
            OrderNumber=head["OrderNumber"],
            OrderStatus=12,
            DeliveryStatus=12,
            InvoiceStatus=12,
            QuantityDelivered=0.0,
            QuantityInvoiced=0.0,
        )
    line.update({k: v for k, v in given.items() if k not in ("Quantity", spec.amount)})
    _resolve_codes(kind, line, store, division)
    return line


def _resolve_codes(kind: str, line: dict, store, division: int) -> None:
    """Exact validates references: a GL account GUID and a cost center code must exist."""
    if line.get("GLAccount"):
        gl = store.tables.get((division, "gl"), {}).get(str(line["GLAccount"]).lower())
        if gl is None:
            raise ValueError(f"GL account {line['GLAccount']} does not exist in {division}.")
        line["GLAccount"] = gl["ID"]
        if "GLAccountDescription" in line:
            line["GLAccountDescription"] = gl["Description"]
    if line.get("CostCenter"):
        cc = store.find(division, "cc", "Code", line["CostCenter"])
        if cc is None:
            raise ValueError(f"Cost center {line['CostCenter']!r} does not exist in {division}.")
        if "CostCenterDescription" in line:
            line["CostCenterDescription"] = cc["Description"]


def totals(kind: str, doc: dict, division_currency: str, store) -> None:
    spec, head, lines = KINDS[kind], doc["header"], doc["lines"]
    head["Modified"] = store.now()
    fx = rate(head["Currency"], division_currency)
    # Exact stores money as decimals: totals come back rounded to cents, never float noise.
    excl = round(sum(line[spec.amount] for line in lines), 2)
    vat = round(sum(line[spec.vat] for line in lines), 2)
    if kind == "si":
        status, typ = head.setdefault("Status", 20), head.setdefault("Type", 8020)
        head.update(
            AmountFCExclVat=excl,
            VATAmountFC=vat,
            AmountFC=round(excl + vat, 2),
            AmountDC=round((excl + vat) * fx, 2),
            VATAmountDC=round(vat * fx, 2),
            AmountDiscount=0.0,
            AmountDiscountExclVat=0.0,
            StatusDescription=SI_STATUS.get(status),
            TypeDescription=SI_TYPES.get(typ),
        )
    elif kind == "po":
        head.setdefault("OrderStatus", 10)
        # Unconfirmed (§9): whether PO AmountFC includes VAT; the sandbox includes it.
        head.update(
            AmountFC=round(excl + vat, 2), AmountDC=round((excl + vat) * fx, 2), VATAmount=vat
        )
    elif kind == "so":
        head.setdefault("Status", 12)
        head.update(
            AmountFCExclVat=excl,
            AmountFC=round(excl + vat, 2),
            AmountDC=round((excl + vat) * fx, 2),
            AmountDiscount=0.0,
        )
        doc["vat"] = vat
    else:
        head.setdefault("Status", 20)
        head.setdefault("Type", 8033)
        head.update(
            AmountFCExclVat=excl,
            Amount=excl + vat,
            AmountDC=round((excl + vat) * fx, 2),
            VATAmount=vat,
            AmountDiscount=0.0,
        )


HEADER_ONLY = ("AmountFCExclVat", "AmountDiscount", "AmountDiscountExclVat")


def sync_row(source: str, doc: dict, line_id: str | None, stamp: int, store, division: int):
    """The row a sync feed shows for a header (line_id None) or a line, if `stamp` is current."""
    head = doc["header"]
    if line_id is None:
        if head.get("Timestamp") != stamp:
            return None
        line = None
    else:
        line = next((x for x in doc["lines"] if x["ID"] == line_id), None)
        if line is None or line.get("Timestamp") != stamp:
            return None
    if source == "so:h":  # Unconfirmed: whether a header row ID equals OrderID; it differs
        return {**head, "ID": doc["sync_id"], "VATAmount": doc.get("vat"), "Timestamp": stamp}
    if source == "so:l":
        return dict(line)
    kind = source.split(":")[0]
    fields = schema.SI_SYNC if kind == "si" else schema.PO_SYNC
    row = dict.fromkeys(fields)
    row.update(head)
    if line is None:
        # Header row (§5.1): LineNumber 0, its own ID (whether it equals the document key is
        # unconfirmed, so the sandbox makes it differ), line fields empty.
        row.update(ID=doc["sync_id"], LineNumber=0)
    else:
        row.update(dict.fromkeys(HEADER_ONLY))  # Unconfirmed: empty on line rows (§6.1)
        row.update(line)
    row["Timestamp"] = stamp
    if kind == "po":
        _po_cost_fields(row, line, store, division)
    return row


def _po_cost_fields(row: dict, line: dict | None, store, division: int) -> None:
    """On the PO sync feed CostCenter/CostUnit are GUIDs plus separate codes (§6.3)."""
    code = line.get("CostCenter") if line else None
    cc = store.find(division, "cc", "Code", code) if code else None
    row.update(
        CostCenter=cc["ID"] if cc else None,
        CostCenterCode=code,
        CostCenterDescription=cc["Description"] if cc else None,
    )
    unit = line.get("CostUnit") if line else None
    # The sandbox keeps no cost-unit table: a stable GUID per code stands in for the reference.
    unit_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox:costunit:{division}:{unit}"))
    row.update(CostUnit=unit_id if unit else None, CostUnitCode=unit, CostUnitDescription=None)
