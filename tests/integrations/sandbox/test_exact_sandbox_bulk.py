"""The Exact sandbox's bulk lines endpoints (reference §5.4): GET only, 1,000 rows a page,
`$select` mandatory, `$filter` allowed, the URL limit of §3.9 as everywhere; and a test control
that makes one refuse a filter on named fields with Exact's wording (§3.4, §3.8)."""

from __future__ import annotations

from datetime import date

import pytest
import requests

from integrations.sandbox.exact import ExactSandbox
from tests.integrations.sandbox.test_exact_sandbox import JSON, api

DIV = 101
LINES = "bulk/SalesOrder/SalesOrderLines"


@pytest.fixture
def sandbox():
    sb = ExactSandbox()
    sb.add_division(DIV, "Amsterdam")
    sb.add_cost_center(DIV, "KP-100", "Office")
    sb.customer = sb.add_account(DIV, "C1", "Customer")
    return sb


def orders(sandbox, n: int, lines: int = 3) -> list[str]:
    return [
        sandbox.add_sales_order(
            DIV,
            account=sandbox.customer["ID"],
            order_date=date(2026, 11, 2),
            lines=[{"CostCenter": "KP-100", "AmountFC": 5} for _ in range(lines)],
        )["OrderID"]
        for _ in range(n)
    ]


def by_order(keys: list[str]) -> str:
    return " or ".join(f"(OrderID eq guid'{k}')" for k in keys)


def test_bulk_lines_take_a_parent_key_filter_and_answer_1000_rows_a_page(sandbox, token_and_base):
    token, base = token_and_base
    keys = orders(sandbox, 350)  # 1,050 lines
    params = {"$select": "OrderID,ID", "$filter": "LineNumber gt 0"}
    first = api(base, token, f"{DIV}/{LINES}", params).json()["d"]
    assert len(first["results"]) == 1000 and "$skiptoken=" in first["__next"]
    some = api(base, token, f"{DIV}/{LINES}", {"$select": "OrderID", "$filter": by_order(keys[:2])})
    assert some.status_code == 200
    assert sorted(r["OrderID"] for r in some.json()["d"]["results"]) == sorted(keys[:2] * 3)
    assert api(base, token, f"{DIV}/{LINES}", {"$filter": by_order(keys[:1])}).status_code == 400


def test_bulk_lines_refuse_urls_over_6000_characters(sandbox, token_and_base):
    token, base = token_and_base
    keys = orders(sandbox, 1)
    head = f"{base}/api/v1/{DIV}/{LINES}?$select=OrderID&$filter="
    pad = f"(OrderID%20eq%20guid%27{keys[0]}%27)%20and%20Description%20ne%20%27{{}}%27"
    filler = 6001 - len(head) - len(pad.format(""))
    headers = {"Authorization": f"Bearer {token['access_token']}", **JSON}
    long = requests.get(head + pad.format("x" * filler), headers=headers, timeout=5)
    assert long.status_code == 400 and "6000" in long.json()["error"]["message"]["value"]
    fits = requests.get(head + pad.format("x" * (filler - 1)), headers=headers, timeout=5)
    assert fits.status_code == 200 and len(fits.json()["d"]["results"]) == 3  # its lines


def test_a_bulk_endpoint_made_to_refuse_a_filter_answers_as_exact_does(sandbox, token_and_base):
    token, base = token_and_base
    keys = orders(sandbox, 2)
    sandbox.refuse_bulk_filter(LINES, "OrderID")
    refused = api(base, token, f"{DIV}/{LINES}", {"$select": "ID", "$filter": by_order(keys)})
    assert refused.status_code == 400
    assert refused.json()["error"]["message"]["value"] == (
        "Filtering on these fields is not supported: OrderID"
    )
    assert sandbox.calls[-1][2] == 400
    other = api(base, token, f"{DIV}/{LINES}", {"$select": "ID", "$filter": "LineNumber gt 0"})
    assert other.status_code == 200 and len(other.json()["d"]["results"]) == 6
    regular = api(
        base,
        token,
        f"{DIV}/salesorder/SalesOrderLines",
        {"$select": "ID", "$filter": by_order(keys)},
    )
    assert regular.status_code == 200  # only the bulk endpoint refuses
    sandbox.refuse_bulk_filter(LINES)  # accepted again
    assert api(base, token, f"{DIV}/{LINES}", {"$select": "ID", "$filter": by_order(keys)}).ok


def test_refusing_filters_is_for_bulk_endpoints_and_their_fields_only(sandbox):
    with pytest.raises(ValueError, match="not a bulk endpoint"):
        sandbox.refuse_bulk_filter("salesorder/SalesOrderLines", "OrderID")
    with pytest.raises(ValueError, match="no field"):
        sandbox.refuse_bulk_filter(LINES, "InvoiceID")
