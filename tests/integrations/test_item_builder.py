"""Pure: documents + route + mappings -> the item to write, and why it is flagged."""

import json
import uuid
from datetime import date
from decimal import Decimal

import pytest

from integrations.exact.records import ExactDocument, ExactLine
from integrations.models import Route
from integrations.sync import item_builder
from mappings.resolve import MappingContext

GL_8000 = uuid.UUID("00000000-0000-0000-0000-000000008000")
COLUMNS = {
    "date": {"id": "date", "title": "Date", "type": "date"},
    "amount": {"id": "amount", "title": "Amount", "type": "numbers"},
    "gl": {"id": "gl", "title": "GL account", "type": "text"},
    "cc": {"id": "cc", "title": "Cost center", "type": "text"},
    "status": {
        "id": "status",
        "title": "Status",
        "type": "status",
        "settings": {"labels": {"0": "Open", "1": "Credit note", "2": "Cancelled"}},
    },
    "review": {
        "id": "review",
        "title": "Review",
        "type": "status",
        "settings": {"labels": {"0": "OK", "1": "Needs review"}},
    },
}


def line(amount, *, gl=GL_8000, cc="KP-100", n=1):
    return ExactLine(
        id=uuid.uuid4(),
        line_number=n,
        description=f"L{n}",
        gl_account_id=gl,
        gl_account_code="",
        cost_center=cc,
        cost_unit="",
        quantity=Decimal(1),
        amount_fc=Decimal(amount),
        amount_dc=Decimal(amount),
    )


def doc(*lines, entity="sales_invoice", credit=False, cancelled=False, division=101):
    return ExactDocument(
        entity=entity,
        division=division,
        key=uuid.uuid4(),
        number="26000001",
        document_date=date(2026, 3, 31),
        currency="EUR",
        amount_fc=Decimal("-12.10") if credit else Decimal("121.00"),
        amount_dc=Decimal("121.00"),
        account_name="Acme",
        account_code="C1",
        description="",
        status=20,
        status_label="Open",
        doc_type=8021 if credit else 8020,
        is_credit_note=credit,
        is_cancelled=cancelled,
        modified=None,
        timestamp=5,
        lines=tuple(lines),
    )


def route(**kw):
    r = Route(
        name="r",
        entity="sales_invoice",
        board_id="1",
        group_id="topics",
        columns={
            "date": "date",
            "amount": "amount",
            "gl_account": "gl",
            "cost_center": "cc",
            "status": "status",
            "review_flag": "review",
        },
    )
    for k, v in kw.items():
        setattr(r, k, v)
    r.exact_connection_id = 1
    from integrations.models import ExactConnection

    r.exact_connection = ExactConnection(base_url="https://start.exactonline.nl")
    return r


def ctx(values=None):
    return MappingContext(
        route_id=1,
        division=101,
        gl_by_id={str(GL_8000): ("8000", "Revenue")},
        descriptions={("gl_account", "8000"): "Revenue", ("cost_center", "KP-9"): "Harbour"},
        values=values or {},
    )


MAPPED = {("gl_account", "8000"): "8000 Revenue", ("cost_center", "KP-100"): "KP-100"}


def test_a_mapped_invoice_gets_every_column_and_no_flag():
    item = item_builder.build_item(route(), doc(line(100)), ctx(MAPPED), COLUMNS)
    assert item.reasons == ()
    assert item.column_values["gl"] == "8000 Revenue" and item.column_values["cc"] == "KP-100"
    assert item.column_values["date"] == {"date": "2026-03-31"}  # the document's own date
    assert item.column_values["amount"] == "121.00"
    assert item.column_values["review"] == {"label": "OK"}


def test_an_unmapped_gl_account_flags_with_a_sentence_naming_code_description_and_column():
    item = item_builder.build_item(
        route(), doc(line(100)), ctx({("cost_center", "KP-100"): "KP-100"}), COLUMNS
    )
    assert item.reasons == ("GL account 8000 Revenue has no mapping for the GL account column",)
    assert "gl" not in item.column_values
    assert item.column_values["review"] == {"label": "Needs review"}


def test_when_lines_disagree_the_largest_amount_decides():
    item = item_builder.build_item(
        route(), doc(line(10, cc="KP-9", n=1), line(-500, cc="KP-100", n=2)), ctx(MAPPED), COLUMNS
    )
    assert item.snapshot["cost_center"] == "KP-100" and item.reasons == ()


def test_a_gl_guid_missing_from_reference_data_asks_for_a_refresh():
    unknown = uuid.uuid4()
    item = item_builder.build_item(route(), doc(line(100, gl=unknown)), ctx(MAPPED), COLUMNS)
    assert any("not in the reference data" in r for r in item.reasons)


def test_purchase_orders_carry_no_gl_account_and_say_so_instead_of_inventing_one():
    item = item_builder.build_item(
        route(entity="purchase_order"),
        doc(line(100, gl=None), entity="purchase_order"),
        ctx(MAPPED),
        COLUMNS,
    )
    assert item.snapshot["gl_account"] == ""
    assert any("carry no GL account" in r for r in item.reasons)


@pytest.mark.parametrize(
    "credit, cancelled, label",
    [(True, False, "Credit note"), (False, True, "Cancelled"), (False, False, "Open")],
)
def test_lifecycle_shows_in_the_status_column(credit, cancelled, label):
    item = item_builder.build_item(
        route(), doc(line(100), credit=credit, cancelled=cancelled), ctx(MAPPED), COLUMNS
    )
    assert item.column_values["status"] == {"label": label}


def test_credit_note_amount_stays_negative():
    item = item_builder.build_item(route(), doc(line(-10), credit=True), ctx(MAPPED), COLUMNS)
    assert item.column_values["amount"] == "-12.10"


def test_a_group_per_division_overrides_the_route_group():
    item = item_builder.build_item(
        route(division_groups={"102": "rotterdam"}),
        doc(line(1), division=102),
        ctx(MAPPED),
        COLUMNS,
    )
    assert item.group_id == "rotterdam"


def test_the_content_hash_changes_with_the_content_and_only_then():
    d = doc(line(100))
    a = item_builder.build_item(route(), d, ctx(MAPPED), COLUMNS)
    b = item_builder.build_item(route(), d, ctx(MAPPED), COLUMNS)
    c = item_builder.build_item(
        route(), d, ctx({**MAPPED, ("gl_account", "8000"): "Other"}), COLUMNS
    )
    assert a.content_hash == b.content_hash != c.content_hash
    json.dumps(a.snapshot)  # the snapshot is plain JSON
