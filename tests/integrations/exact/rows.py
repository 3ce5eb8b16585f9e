"""Builders for Exact OData rows as the API writes them (shapes from the reference, §6)."""

from __future__ import annotations

import json
import uuid
from calendar import timegm
from datetime import datetime
from decimal import Decimal
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "exact"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(), parse_float=Decimal)


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text()


def wire_date(naive: datetime) -> str:
    return f"/Date({timegm(naive.timetuple()) * 1000})/"


def key(n: int) -> str:
    return str(uuid.UUID(int=n))


def si_sync_rows(
    doc: int,
    *,
    lines: int = 3,
    ts: int,
    header: bool = True,
    doc_type=8020,
    amount=Decimal("100.00"),
) -> list[dict]:
    """Rows of one sales invoice on the sync feed: a header row (LineNumber 0) then lines."""
    common = {
        "InvoiceID": key(doc),
        "InvoiceNumber": 26000000 + doc,
        "InvoiceDate": wire_date(datetime(2026, 3, 31)),
        "InvoiceToName": f"Customer {doc}",
        "Currency": "EUR",
        "Status": 20,
        "Type": doc_type,
        "Modified": wire_date(datetime(2026, 7, 1, 12, 0)),
    }
    rows = []
    if header:
        rows.append(
            {
                **common,
                "Timestamp": ts,
                "ID": key(doc),
                "LineNumber": 0,
                "AmountFC": amount * lines * Decimal("1.21"),
                "AmountDC": amount * lines,
                "Description": f"Invoice {doc}",
                "GLAccount": None,
                "CostCenter": None,
                "CostUnit": None,
                "Quantity": None,
            }
        )
        ts += 1
    for n in range(1, lines + 1):
        rows.append(
            {
                **common,
                "Timestamp": ts,
                "ID": key(doc * 1000 + n),
                "LineNumber": n,
                "AmountFC": amount,
                "AmountDC": amount,
                "Description": f"Line {n}",
                "GLAccount": key(8000),
                "CostCenter": "200",
                "CostUnit": "U1",
                "Quantity": Decimal("2"),
            }
        )
        ts += 1
    return rows


def _plain(value):
    """JSON-ready: Decimals become JSON numbers, as Exact sends them (Edm.Double)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def page(rows: list[dict], next_url: str | None = None) -> dict:
    data: dict = {"results": _plain(rows)}
    if next_url:
        data["__next"] = next_url
    return {"d": data}
