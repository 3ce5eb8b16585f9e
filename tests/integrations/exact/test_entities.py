import uuid
from datetime import date
from decimal import Decimal

from integrations.exact.entities import parse_deleted, parse_document, parse_line
from integrations.exact.specs import ENTITIES, PURCHASE_INVOICE, PURCHASE_ORDER, SALES_INVOICE
from integrations.models import Entity
from tests.integrations.exact.rows import fixture, key

HEADER = {
    "InvoiceID": key(1),
    "InvoiceNumber": 26000145,
    "InvoiceDate": "/Date(1711843200000)/",
    "Currency": "USD",
    "AmountFC": Decimal("121.00"),
    "AmountDC": Decimal("110.55"),
    "InvoiceToName": " Bakkerij De Zon BV ",
    "Description": "Service",
    "Status": 50,
    "Type": 8020,
    "Modified": "/Date(1763996400000)/",
}
LINE = {
    "ID": key(11),
    "InvoiceID": key(1),
    "LineNumber": 1,
    "Description": "Maintenance",
    "GLAccount": key(8000),
    "CostCenter": "200",
    "CostUnit": None,
    "Quantity": Decimal("10.0"),
    "AmountFC": Decimal("100.00"),
    "AmountDC": Decimal("91.36"),
}


def test_every_entity_has_endpoints_keys_and_selects():
    assert set(ENTITIES) == set(Entity.values)
    for spec in ENTITIES.values():
        assert spec.key_field in spec.header_select
        assert spec.line_parent_field in spec.line_select
        for feed in spec.sync_feeds:
            assert "Timestamp" in feed.select  # sync endpoints need $select


def test_sales_invoice_parses_into_typed_values():
    doc = parse_document(SALES_INVOICE, 101, HEADER, [parse_line(SALES_INVOICE, LINE)])
    assert doc.key == uuid.UUID(key(1))
    assert doc.number == "26000145"
    assert doc.document_date == date(2024, 3, 31)
    assert (doc.currency, doc.amount_fc, doc.amount_dc) == (
        "USD",
        Decimal("121.00"),
        Decimal("110.55"),
    )
    assert doc.account_name == "Bakkerij De Zon BV"
    assert (doc.status, doc.status_label, doc.is_credit_note) == (50, "Processed", False)
    line = doc.lines[0]
    assert line.gl_account_id == uuid.UUID(key(8000))
    assert (line.cost_center, line.cost_unit) == ("200", "")
    assert line.amount_dc == Decimal("91.36") and isinstance(line.quantity, Decimal)


def test_credit_note_sent_positive_comes_out_negative_with_its_lines():
    for credit_type in (8021, 8024):
        header = {**HEADER, "Type": credit_type}
        doc = parse_document(SALES_INVOICE, 101, header, [parse_line(SALES_INVOICE, LINE)])
        assert doc.is_credit_note
        assert (doc.amount_fc, doc.amount_dc) == (Decimal("-121.00"), Decimal("-110.55"))
        assert doc.lines[0].amount_fc == Decimal("-100.00")


def test_credit_note_already_negative_is_not_flipped_back():
    header = {
        **HEADER,
        "Type": 8021,
        "AmountFC": Decimal("-121.00"),
        "AmountDC": Decimal("-110.55"),
    }
    line = {**LINE, "AmountFC": Decimal("-100.00"), "AmountDC": Decimal("-91.36")}
    doc = parse_document(SALES_INVOICE, 101, header, [parse_line(SALES_INVOICE, line)])
    assert doc.amount_fc == Decimal("-121.00")
    assert doc.lines[0].amount_dc == Decimal("-91.36")


def test_unassigned_invoice_number_is_empty():
    assert parse_document(SALES_INVOICE, 101, {**HEADER, "InvoiceNumber": 0}, []).number == ""
    assert parse_document(SALES_INVOICE, 101, {**HEADER, "InvoiceNumber": None}, []).number == ""


def test_cancelled_purchase_order_is_marked_cancelled():
    header = {
        "PurchaseOrderID": key(2),
        "OrderNumber": 7,
        "OrderDate": None,
        "Currency": "EUR",
        "AmountFC": Decimal("5"),
        "AmountDC": Decimal("5"),
        "SupplierName": "Supplier",
        "SupplierCode": "            25",
        "Description": "",
        "OrderStatus": 40,
        "Modified": None,
    }
    doc = parse_document(PURCHASE_ORDER, 101, header, [])
    assert doc.is_cancelled and doc.status_label == "Cancelled"
    assert doc.account_code == "25"  # Exact pads account codes to 18 characters


def test_purchase_invoice_reads_amount_and_credit_types():
    header = {
        "ID": key(3),
        "EntryNumber": 15,
        "InvoiceDate": None,
        "Currency": "EUR",
        "Amount": Decimal("50"),
        "AmountDC": Decimal("50"),
        "Description": "",
        "Status": 20,
        "Type": 8034,
        "Modified": None,
    }
    line = {
        "ID": key(31),
        "InvoiceID": key(3),
        "LineNumber": 1,
        "Amount": Decimal("40"),
        "AmountDC": Decimal("40"),
        "Quantity": Decimal("1"),
        "CostCenter": "300",
    }
    doc = parse_document(PURCHASE_INVOICE, 101, header, [parse_line(PURCHASE_INVOICE, line)])
    assert doc.is_credit_note and doc.amount_fc == Decimal("-50")
    assert doc.lines[0].amount_fc == Decimal("-40")


def test_fixture_amounts_are_decimals_never_floats():
    row = fixture("sync_sales_invoices_page.json")["d"]["results"][0]
    assert isinstance(row["AmountFC"], Decimal)


def test_deleted_records_map_entity_types():
    record = parse_deleted(
        {"Timestamp": 5, "EntityKey": key(4), "EntityType": 13, "DeletedDate": None}
    )
    assert (record.entity, record.is_line) == (Entity.SALES_INVOICE, False)
    line = parse_deleted({"Timestamp": 6, "EntityKey": key(5), "EntityType": 33})
    assert (line.entity, line.is_line) == (Entity.SALES_ORDER, True)
    assert parse_deleted({"Timestamp": 7, "EntityKey": key(6), "EntityType": 2}).entity is None
