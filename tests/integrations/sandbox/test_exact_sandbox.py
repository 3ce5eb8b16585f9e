"""The Exact Online sandbox keeps Exact's strict rules (../shared/reference/exact-online.md)."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from integrations.sandbox.clock import SandboxClock
from integrations.sandbox.exact import ExactSandbox
from integrations.sandbox.server import combined_app, serve

DIV = 3101001
REDIRECT = "https://connector.example.test/integrations/exact/callback/"
START = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)  # a Monday in winter (CET, UTC+1)
JSON = {"Accept": "application/json"}
# Endpoints with a sync counterpart refuse an unfiltered GET (reference §3.4): a filter that
# keeps every row, for tests about paging, limits and formats rather than filtering.
EVERY = "Modified ge datetime'2000-01-01T00:00:00'"


@pytest.fixture
def clock():
    return SandboxClock(START)


@pytest.fixture
def sandbox(clock):
    sb = ExactSandbox(clock=clock)
    sb.seed_company(invoices_per_division=6)
    return sb


@pytest.fixture
def base(sandbox):
    server, url = serve(sandbox)
    yield url
    server.shutdown()
    server.server_close()


def token_request(base, **form):
    form = {"client_id": "sandbox-client", "client_secret": "sandbox-secret", **form}
    return requests.post(f"{base}/api/oauth2/token", data=form, timeout=5)


def connect(sandbox, base) -> dict:
    code = sandbox.issue_authorization_code(REDIRECT)
    answer = token_request(base, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert answer.status_code == 200
    return answer.json()


def api(base, token, path, params=None, accept=True, **kw):
    headers = {"Authorization": f"Bearer {token['access_token']}", **(JSON if accept else {})}
    return requests.get(f"{base}/api/v1/{path}", headers=headers, params=params, timeout=5, **kw)


def customer(sandbox, division=DIV) -> str:
    return sandbox.accounts(division, customers=True)[0]["ID"]


def revenue_gl(sandbox, division=DIV) -> str:
    return next(g["ID"] for g in sandbox.gl_accounts(division) if g["Code"] == "8000")


# -- OAuth ------------------------------------------------------------------------------------
def test_consent_page_approve_redirects_with_url_encoded_code_and_state(sandbox, base):
    params = {
        "client_id": "sandbox-client",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "state": "s-123",
    }
    page = requests.get(f"{base}/api/oauth2/auth", params=params, timeout=5)
    assert page.status_code == 200
    assert '<form method="post"' in page.text and ">Approve</button>" in page.text
    form = {**params, "decision": "approve", "division": [str(DIV)]}
    answer = requests.post(f"{base}/api/oauth2/auth", data=form, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "?") and "%21" in location  # '!' must be decoded
    query = parse_qs(urlparse(location).query)
    assert query["state"] == ["s-123"]
    exchanged = token_request(
        base, grant_type="authorization_code", code=query["code"][0], redirect_uri=REDIRECT
    )
    assert exchanged.status_code == 200


def test_consent_cancel_redirects_with_access_denied_and_state(sandbox, base):
    form = {
        "client_id": "sandbox-client",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "state": "xyz",
        "decision": "cancel",
    }
    answer = requests.post(f"{base}/api/oauth2/auth", data=form, allow_redirects=False, timeout=5)
    query = parse_qs(urlparse(answer.headers["Location"]).query)
    assert query == {"error": ["access_denied"], "state": ["xyz"]}


def test_authorize_with_unknown_client_id_is_refused(sandbox, base):
    params = {"client_id": "someone-else", "redirect_uri": REDIRECT, "response_type": "code"}
    assert requests.get(f"{base}/api/oauth2/auth", params=params, timeout=5).status_code == 400


def test_token_answer_has_string_expires_in_and_bearer_type(sandbox, base):
    token = connect(sandbox, base)
    assert token["expires_in"] == "600"
    assert token["token_type"].lower() == "bearer"
    assert token["refresh_token"] and token["access_token"] != token["refresh_token"]


def test_authorization_code_is_single_use(sandbox, base):
    code = sandbox.issue_authorization_code(REDIRECT)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    assert token_request(base, **form).status_code == 200
    again = token_request(base, **form)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_authorization_code_expires_after_three_minutes(sandbox, base, clock):
    code = sandbox.issue_authorization_code(REDIRECT)
    clock.advance(181)
    answer = token_request(base, grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_code_exchange_needs_the_redirect_uri_of_the_authorization(sandbox, base):
    code = sandbox.issue_authorization_code(REDIRECT)
    answer = token_request(
        base, grant_type="authorization_code", code=code, redirect_uri="https://evil.example/cb"
    )
    assert answer.status_code == 400


def test_refresh_before_570_seconds_is_refused_as_too_early(sandbox, base, clock):
    token = connect(sandbox, base)
    clock.advance(569)
    early = token_request(base, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert early.status_code == 400
    assert early.json() == {
        "error": "access_denied",
        "error_description": "Rate limit exceeded: access_token not expired",
    }
    assert early.headers["Reason"].startswith("TooEarlyToRefreshTokens")
    clock.advance(1)  # the refresh token survived the refusal
    on_time = token_request(base, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert on_time.status_code == 200
    assert [r["outcome"] for r in sandbox.token_requests] == ["issued", "too_early", "refreshed"]


def test_refresh_rotates_both_tokens_and_the_old_access_token_stops_working(sandbox, base, clock):
    token = connect(sandbox, base)
    clock.advance(575)
    new = token_request(
        base, grant_type="refresh_token", refresh_token=token["refresh_token"]
    ).json()
    assert new["refresh_token"] != token["refresh_token"]
    assert api(base, token, f"{DIV}/system/Divisions").status_code == 401
    assert api(base, new, f"{DIV}/system/Divisions").status_code == 200


def test_reusing_an_old_refresh_token_answers_401_and_kills_the_chain(sandbox, base, clock):
    token = connect(sandbox, base)
    clock.advance(600)
    new = token_request(
        base, grant_type="refresh_token", refresh_token=token["refresh_token"]
    ).json()
    reuse = token_request(base, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert reuse.status_code == 401
    assert reuse.json() == {
        "error": "unauthorized_client",
        "error_description": "Old refresh token used.",
    }
    assert api(base, new, f"{DIV}/system/Divisions").status_code == 401
    clock.advance(600)
    dead = token_request(base, grant_type="refresh_token", refresh_token=new["refresh_token"])
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"


def test_refresh_token_idle_for_30_days_expires(sandbox, base, clock):
    token = connect(sandbox, base)
    clock.advance(30 * 86400)
    answer = token_request(base, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert "refresh token expired" in answer.json()["error_description"]


def test_access_token_lives_600_seconds(sandbox, base, clock):
    token = connect(sandbox, base)
    clock.advance(599)
    assert api(base, token, "current/Me").status_code == 200
    clock.advance(1)
    expired = api(base, token, "current/Me")
    assert expired.status_code == 401
    assert api(base, {"access_token": "made-up"}, "current/Me").status_code == 401


def test_a_revoked_access_token_answers_401_while_a_refresh_stays_too_early(sandbox, base, clock):
    token = connect(sandbox, base)
    clock.advance(60)
    assert sandbox.revoke_access_tokens() == 1
    assert api(base, token, "current/Me").status_code == 401
    early = token_request(base, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert early.status_code == 400 and early.json()["error"] == "access_denied"
    clock.advance(510)  # 570 s after the issue, the chain refreshes as ever
    new = token_request(base, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert new.status_code == 200
    assert api(base, new.json(), "current/Me").status_code == 200


# -- OData shape ------------------------------------------------------------------------------
def test_current_me_is_a_one_row_collection_without_rate_limit_headers(sandbox, base):
    answer = api(base, connect(sandbox, base), "current/Me", {"$select": "CurrentDivision"})
    rows = answer.json()["d"]["results"]
    assert len(rows) == 1 and rows[0]["CurrentDivision"] == DIV
    assert set(rows[0]) == {"__metadata", "CurrentDivision"}
    assert not any(h.lower().startswith("x-ratelimit") for h in answer.headers)


def test_without_json_accept_the_answer_is_an_atom_feed(sandbox, base):
    answer = api(
        base,
        connect(sandbox, base),
        f"{DIV}/financial/GLAccounts",
        {"$select": "Code,Description", "$filter": EVERY},
        accept=False,
    )
    assert answer.headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(answer.content)
    atom = "{http://www.w3.org/2005/Atom}"
    assert root.tag == f"{atom}feed"
    codes = [
        e.text for e in root.iter("{http://schemas.microsoft.com/ado/2007/08/dataservices}Code")
    ]
    assert "8000" in codes


def test_regular_endpoint_pages_60_rows_with_absolute_next_links(sandbox, base):
    ids = set(sandbox.bulk_add_sales_invoices(3101002, 130, lines_per_invoice=1))
    token = connect(sandbox, base)
    url, seen, pages = None, [], 0
    answer = api(
        base,
        token,
        "3101002/salesinvoice/SalesInvoices",
        {"$select": "InvoiceID", "$filter": EVERY},
    )
    while True:
        pages += 1
        d = answer.json()["d"]
        assert len(d["results"]) <= 60
        seen += [r["InvoiceID"] for r in d["results"]]
        url = d.get("__next")
        if not url:
            break
        assert url.startswith(base + "/api/v1/3101002/salesinvoice/SalesInvoices?")
        assert "$skiptoken=guid'" in url and "$select=InvoiceID" in url and "$filter=" in url
        answer = requests.get(
            url, headers={"Authorization": f"Bearer {token['access_token']}", **JSON}, timeout=5
        )
    assert pages == 3 and len(seen) == len(set(seen)) == 136  # 130 + 6 seeded
    assert ids <= set(seen)


def test_single_entity_by_key_answers_d_object_and_a_missing_key_404(sandbox, base):
    token = connect(sandbox, base)
    invoice = sandbox.add_sales_invoice(
        DIV,
        account=customer(sandbox),
        invoice_date=date(2026, 1, 5),
        lines=[{"AmountFC": 10.0, "GLAccount": revenue_gl(sandbox)}],
    )
    key = invoice["InvoiceID"]
    found = api(
        base,
        token,
        f"{DIV}/salesinvoice/SalesInvoices(guid'{key}')",
        {"$select": "InvoiceID,AmountFC"},
    )
    assert found.json()["d"]["InvoiceID"] == key and "results" not in found.json()["d"]
    missing = api(
        base, token, f"{DIV}/salesinvoice/SalesInvoices(guid'{'0' * 8}-0000-0000-0000-{'0' * 12}')"
    )
    assert missing.status_code == 404
    by_filter = api(
        base,
        token,
        f"{DIV}/salesinvoice/SalesInvoices",
        {
            "$filter": f"InvoiceID eq guid'{'1' * 8}-0000-0000-0000-{'0' * 12}'",
            "$select": "InvoiceID",
            "$top": "1",
        },
    )
    assert by_filter.status_code == 200 and by_filter.json()["d"]["results"] == []


def test_unknown_property_in_select_or_filter_answers_exacts_error_body(sandbox, base):
    token = connect(sandbox, base)
    for params in ({"$select": "InvoiceID,Nope"}, {"$filter": "Nope eq 1"}):
        answer = api(base, token, f"{DIV}/salesinvoice/SalesInvoices", params)
        assert answer.status_code == 400
        body = answer.json()
        assert body["error"]["code"] == "" and body["error"]["message"]["lang"] == ""
        assert "Nope" in body["error"]["message"]["value"]


def test_system_divisions_spell_hid_so_and_select_is_case_sensitive(sandbox, base):
    # Reference §2.2-2.3: the field is `Hid`; `$select=HID` fails the call with Exact's 400.
    token = connect(sandbox, base)
    wrong = api(base, token, f"{DIV}/system/Divisions", {"$select": "Code,HID"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["message"]["value"].startswith(
        "No property 'HID' exists in type 'Exact.Web.Api.Models.SystemDivision'"
    )
    right = api(base, token, f"{DIV}/system/Divisions", {"$select": "Code,Hid"})
    assert right.status_code == 200
    assert all(isinstance(r["Hid"], int) for r in right.json()["d"]["results"])


def test_filter_understands_typed_literals_quotes_and_parentheses(sandbox, base):
    token = connect(sandbox, base)
    quoted = sandbox.add_account(DIV, 3001, "O'Neil & Zn")
    gl = revenue_gl(sandbox)

    def ids(path, flt, select="ID"):
        answer = api(base, token, f"{DIV}/{path}", {"$filter": flt, "$select": select})
        assert answer.status_code == 200, answer.text
        return [r[select] for r in answer.json()["d"]["results"]]

    assert ids("crm/Accounts", "Name eq 'O''Neil & Zn'") == [quoted["ID"]]
    assert ids("crm/Accounts", f"ID eq guid'{quoted['ID'].upper()}'") == [quoted["ID"]]
    assert ids("crm/Accounts", "trim(Code) eq '3001' and IsSupplier eq false") == [quoted["ID"]]
    either = f"(ID eq guid'{gl}' or Code eq '4000') and IsBlocked eq false"
    assert sorted(ids("financial/GLAccounts", either, "Code")) == ["4000", "8000"]
    assert ids("financial/GLAccounts", "Modified ge datetime'2026-11-23T10:00:00'") != []
    assert ids("financial/GLAccounts", "Modified gt datetime'2026-11-23T10:00:00'") == []
    revenue = ids("financial/GLAccounts", "Type eq 110L and not (Code eq '8090')", "Code")
    assert sorted(revenue) == ["8000", "8010", "8020"]


def test_malformed_or_mistyped_filters_answer_400(sandbox, base):
    token = connect(sandbox, base)
    for flt in (
        "InvoiceID eq 'not-a-guid'",
        "(Status eq 20",
        "Status eq",
        "Status = 20",
        "InvoiceID eq guid'12345'",
        "Description eq 'unterminated",
    ):
        answer = api(base, token, f"{DIV}/salesinvoice/SalesInvoices", {"$filter": flt})
        assert answer.status_code == 400, flt
        assert answer.json()["error"]["message"]["value"]


# Reference §3.4: every single and bulk endpoint with a sync counterpart refuses an unfiltered
# GET. (path, a property it has, a filter it accepts)
MANDATORY = [
    ("financial/GLAccounts", "ID", "Code eq '8000'"),
    ("crm/Accounts", "ID", "IsSupplier eq false"),
    ("salesinvoice/SalesInvoices", "InvoiceID", "Status eq 20"),
    ("salesinvoice/SalesInvoiceLines", "ID", "LineNumber gt 0"),
    ("purchaseorder/PurchaseOrders", "PurchaseOrderID", "OrderStatus ge 0"),
    ("purchaseorder/PurchaseOrderLines", "ID", "LineNumber gt 0"),
    ("salesorder/SalesOrders", "OrderID", "Status ge 0"),
    ("salesorder/SalesOrderLines", "ID", "LineNumber gt 0"),
    ("bulk/SalesInvoice/SalesInvoices", "InvoiceID", "Status eq 20"),
    ("bulk/SalesInvoice/SalesInvoiceLines", "ID", "LineNumber gt 0"),
    ("bulk/SalesOrder/SalesOrders", "OrderID", "Status ge 0"),
    ("bulk/SalesOrder/SalesOrderLines", "ID", "LineNumber gt 0"),
    ("bulk/Financial/GLAccounts", "ID", "Code eq '8000'"),
    ("bulk/CRM/Accounts", "ID", "IsSupplier eq false"),
]


@pytest.mark.parametrize(("path", "field", "flt"), MANDATORY, ids=[m[0] for m in MANDATORY])
def test_mandatory_filtering_on_endpoints_with_a_sync_counterpart(sandbox, base, path, field, flt):
    token = connect(sandbox, base)
    answer = api(base, token, f"{DIV}/{path}", {"$select": field})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"]["value"].startswith(
        "This endpoint has mandatory filtering applied."
    )
    filtered = api(base, token, f"{DIV}/{path}", {"$select": field, "$filter": flt})
    assert filtered.status_code == 200, filtered.text


def test_endpoints_without_a_sync_counterpart_answer_unfiltered(sandbox, base):
    token = connect(sandbox, base)
    for path, field in (("hrm/Costcenters", "ID,Code"), ("system/Divisions", "Code")):
        answer = api(base, token, f"{DIV}/{path}", {"$select": field})
        assert answer.status_code == 200 and answer.json()["d"]["results"], path
    gl = api(
        base,
        token,
        f"{DIV}/sync/Financial/GLAccounts",
        {"$select": "ID,Code,Timestamp", "$filter": "Timestamp gt 0L"},
    )
    assert {r["Code"] for r in gl.json()["d"]["results"]} >= {"8000", "8090"}


def test_urls_longer_than_6000_characters_after_encoding_are_refused_and_counted(sandbox, base):
    # Reference §1 table, §3.9: 6,000 characters after percent-encoding (status unconfirmed;
    # the sandbox answers 400, which spends the hourly error budget).
    token = connect(sandbox, base)
    headers = {"Authorization": f"Bearer {token['access_token']}", **JSON}
    head = f"{base}/api/v1/{DIV}/salesinvoice/SalesInvoices?$select=InvoiceID&$filter="
    pad = "Description%20ne%20%27{}%27"  # already encoded: requests sends it as it is

    def url_of(length):
        url = head + pad.format("x" * (length - len(head) - len(pad.format(""))))
        assert len(url) == length
        return url

    assert requests.get(url_of(6000), headers=headers, timeout=5).status_code == 200
    refused = requests.get(url_of(6001), headers=headers, timeout=5)
    assert refused.status_code == 400
    assert "6000" in refused.json()["error"]["message"]["value"]
    assert sandbox.calls[-1][2] == 400
    for _ in range(9):  # ten refusals within the hour block the endpoint, as other 400s do
        requests.get(url_of(6500), headers=headers, timeout=5)
    blocked = api(base, token, f"{DIV}/salesinvoice/SalesInvoices", {"$filter": EVERY})
    assert blocked.status_code == 429


def test_account_codes_are_left_padded_to_18_characters(sandbox, base):
    rows = sandbox.accounts(DIV)
    assert all(len(r["Code"]) == 18 and r["Code"].lstrip() == r["Code"].strip() for r in rows)
    token = connect(sandbox, base)
    trimmed = api(
        base, token, f"{DIV}/crm/Accounts", {"$filter": "Code eq '1000'", "$select": "ID"}
    )
    assert trimmed.json()["d"]["results"] == []


# -- dates and amounts ------------------------------------------------------------------------
def test_dates_are_amsterdam_wall_clock_read_as_utc(sandbox, base, clock):
    token = connect(sandbox, base)
    gl = revenue_gl(sandbox)
    clock.advance(-(START - datetime(2026, 3, 29, 10, 0, tzinfo=UTC)).total_seconds())  # CEST
    summer = sandbox.add_sales_invoice(
        DIV,
        account=customer(sandbox),
        invoice_date=date(2026, 3, 31),
        lines=[{"AmountFC": 1.0, "GLAccount": gl}],
    )
    clock.advance((START - datetime(2026, 3, 29, 10, 0, tzinfo=UTC)).total_seconds())  # CET
    winter = sandbox.add_sales_invoice(
        DIV,
        account=customer(sandbox),
        invoice_date=date(2026, 12, 31),
        lines=[{"AmountFC": 1.0, "GLAccount": gl}],
    )
    got = {}
    for inv in (summer, winter):
        answer = api(
            base,
            token,
            f"{DIV}/salesinvoice/SalesInvoices(guid'{inv['InvoiceID']}')",
            {"$select": "InvoiceDate,Modified"},
        )
        got[inv["InvoiceID"]] = answer.json()["d"]

    def ms(*args):
        return f"/Date({int(datetime(*args, tzinfo=UTC).timestamp() * 1000)})/"

    assert got[summer["InvoiceID"]] == {
        **got[summer["InvoiceID"]],
        "InvoiceDate": ms(2026, 3, 31),
        "Modified": ms(2026, 3, 29, 12, 0),
    }  # 10:00Z = 12:00 CEST
    assert got[winter["InvoiceID"]]["InvoiceDate"] == ms(2026, 12, 31)
    assert got[winter["InvoiceID"]]["Modified"] == ms(2026, 11, 23, 10, 0)  # 09:00Z = 10:00 CET


def test_credit_notes_carry_negative_amounts_as_json_numbers(sandbox, base):
    credit = sandbox.add_sales_invoice(
        DIV,
        account=customer(sandbox),
        invoice_date=date(2026, 2, 1),
        type=8021,
        lines=[{"AmountFC": 100.0, "GLAccount": revenue_gl(sandbox)}],
    )
    answer = api(
        base,
        connect(sandbox, base),
        f"{DIV}/salesinvoice/SalesInvoices(guid'{credit['InvoiceID']}')",
        {"$select": "AmountFC,AmountFCExclVat,Type,TypeDescription"},
    )
    d = answer.json()["d"]
    assert d["AmountFCExclVat"] == -100.0 and d["AmountFC"] == pytest.approx(-121.0)
    assert d["Type"] == 8021 and d["TypeDescription"] == "Sales credit note"


def test_unknown_gl_account_or_cost_center_on_a_line_is_refused(sandbox):
    with pytest.raises(ValueError):
        sandbox.add_sales_invoice(
            DIV,
            account=customer(sandbox),
            invoice_date=date(2026, 1, 1),
            lines=[{"AmountFC": 1.0, "CostCenter": "NOPE"}],
        )


# -- sync endpoints ---------------------------------------------------------------------------
def test_sync_endpoint_requires_select(sandbox, base):
    token = connect(sandbox, base)
    answer = api(
        base, token, f"{DIV}/sync/SalesInvoice/SalesInvoices", {"$filter": "Timestamp gt 1L"}
    )
    assert answer.status_code == 400
    assert "$select" in answer.json()["error"]["message"]["value"]


def test_sync_endpoint_filters_on_timestamp_only(sandbox, base):
    answer = api(
        base,
        connect(sandbox, base),
        f"{DIV}/sync/SalesInvoice/SalesInvoices",
        {"$filter": "Timestamp gt 1L and Status eq 20", "$select": "Timestamp"},
    )
    assert answer.status_code == 400
    assert "Status" in answer.json()["error"]["message"]["value"]


def test_sync_invoices_come_one_row_per_line_in_pages_of_1000(sandbox, base):
    sandbox.bulk_add_sales_invoices(3101003, 500, lines_per_invoice=3)  # + 6 seeded invoices
    token = connect(sandbox, base)
    select = "Timestamp,ID,InvoiceID,LineNumber,InvoiceNumber,InvoiceTo,AmountFC,GLAccount"
    answer = api(
        base,
        token,
        "3101003/sync/SalesInvoice/SalesInvoices",
        {"$filter": "Timestamp gt 1L", "$select": select},
    )
    rows, calls = [], 0
    while True:
        calls += 1
        d = answer.json()["d"]
        rows += d["results"]
        if "__next" not in d:
            break
        assert len(d["results"]) == 1000
        answer = requests.get(
            d["__next"],
            headers={"Authorization": f"Bearer {token['access_token']}", **JSON},
            timeout=5,
        )
    stamps = [r["Timestamp"] for r in rows]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    headers = [r for r in rows if r["LineNumber"] == 0]
    assert len(headers) == 506 and calls == -(-len(rows) // 1000)
    first = headers[-1]
    lines = [r for r in rows if r["InvoiceID"] == first["InvoiceID"] and r["LineNumber"] > 0]
    assert len(lines) == 3
    assert all(
        x["InvoiceNumber"] == first["InvoiceNumber"] and x["InvoiceTo"] == first["InvoiceTo"]
        for x in lines
    )
    assert first["GLAccount"] is None and all(x["GLAccount"] for x in lines)
    assert first["ID"] != first["InvoiceID"]  # header row ID ≠ document key (unconfirmed on Exact)


def test_a_change_restamps_the_document_and_a_cursor_sees_it_once(sandbox, base):
    token = connect(sandbox, base)
    select = {"$select": "Timestamp,InvoiceID,LineNumber,Description"}
    rows = api(
        base,
        token,
        f"{DIV}/sync/SalesInvoice/SalesInvoices",
        {**select, "$filter": "Timestamp gt 1L"},
    ).json()["d"]["results"]
    cursor = max(r["Timestamp"] for r in rows)
    target = rows[0]["InvoiceID"]
    sandbox.update_sales_invoice(DIV, target, Description="Changed")
    after = api(
        base,
        token,
        f"{DIV}/sync/SalesInvoice/SalesInvoices",
        {**select, "$filter": f"Timestamp gt {cursor}L"},
    ).json()["d"]["results"]
    assert {r["InvoiceID"] for r in after} == {target}
    assert after[0]["LineNumber"] == 0 and all(r["Timestamp"] > cursor for r in after)
    assert len(after) == 1 + sum(1 for r in rows if r["InvoiceID"] == target and r["LineNumber"])


def test_purchase_order_sync_rows_carry_cost_center_guid_and_code(sandbox, base):
    token = connect(sandbox, base)
    rows = api(
        base,
        token,
        f"{DIV}/sync/PurchaseOrder/PurchaseOrders",
        {
            "$filter": "Timestamp gt 1L",
            "$select": "PurchaseOrderID,LineNumber,CostCenter,CostCenterCode",
        },
    ).json()["d"]["results"]
    line = next(r for r in rows if r["LineNumber"] > 0)
    center = next(c for c in sandbox.cost_centers(DIV) if c["Code"] == line["CostCenterCode"])
    assert line["CostCenter"] == center["ID"]
    regular = api(
        base,
        token,
        f"{DIV}/purchaseorder/PurchaseOrderLines",
        {"$filter": f"PurchaseOrderID eq guid'{line['PurchaseOrderID']}'", "$select": "CostCenter"},
    ).json()["d"]["results"]
    assert line["CostCenterCode"] in [r["CostCenter"] for r in regular]  # code, not GUID


def test_sales_order_header_change_bumps_only_the_header_feed(sandbox, base):
    token = connect(sandbox, base)
    order = sandbox.add_sales_order(
        DIV,
        account=customer(sandbox),
        order_date=date(2026, 5, 4),
        lines=[{"AmountFC": 5.0}, {"AmountFC": 6.0}],
    )
    cursor = sandbox.store.rowversion
    sandbox.update_sales_order(DIV, order["OrderID"], Description="New")
    flt = {"$filter": f"Timestamp gt {cursor}L", "$select": "OrderID,Timestamp"}
    heads = api(base, token, f"{DIV}/sync/SalesOrder/SalesOrderHeaders", flt).json()["d"]
    lines = api(base, token, f"{DIV}/sync/SalesOrder/SalesOrderLines", flt).json()["d"]
    assert [r["OrderID"] for r in heads["results"]] == [order["OrderID"]]
    assert lines["results"] == []


def test_deleted_records_appear_in_sync_deleted_with_entity_type(sandbox, base):
    token = connect(sandbox, base)
    cursor = sandbox.store.rowversion
    invoice = sandbox.add_sales_invoice(
        DIV,
        account=customer(sandbox),
        invoice_date=date(2026, 4, 1),
        lines=[{"AmountFC": 1.0, "GLAccount": revenue_gl(sandbox)}],
    )
    sandbox.delete_sales_invoice(DIV, invoice["InvoiceID"])
    rows = api(
        base,
        token,
        f"{DIV}/sync/Deleted",
        {
            "$filter": f"Timestamp gt {cursor}L",
            "$select": "Timestamp,EntityKey,EntityType,DeletedDate",
        },
    ).json()["d"]["results"]
    assert [(r["EntityKey"], r["EntityType"]) for r in rows] == [(invoice["InvoiceID"], 13)]
    gone = api(
        base,
        token,
        f"{DIV}/sync/SalesInvoice/SalesInvoices",
        {"$filter": f"Timestamp gt {cursor}L", "$select": "InvoiceID"},
    ).json()["d"]
    assert gone["results"] == []


def test_sync_timestamp_function_gives_a_cursor_for_a_start_date(sandbox, base):
    token = connect(sandbox, base)
    answer = api(
        base,
        token,
        f"{DIV}/read/sync/Sync/SyncTimestamp",
        {"modified": "datetime'2026-01-01T00:00:00'", "endPoint": "'SalesInvoices'"},
    )
    row = answer.json()["d"]["results"][0]
    assert isinstance(row["TimeStampAsBigInt"], int) and row["TimeStampAsBigInt"] > 1
    missing = api(
        base, token, f"{DIV}/read/sync/Sync/SyncTimestamp", {"endPoint": "'SalesInvoices'"}
    )
    assert missing.status_code == 400


# -- limits -----------------------------------------------------------------------------------
def test_minutely_limit_answers_429_without_daily_headers_until_the_next_minute(
    sandbox, base, clock
):
    token = connect(sandbox, base)
    path = f"{DIV}/hrm/Costcenters"  # no mandatory filter: the call is just a call
    first = api(base, token, path, {"$select": "ID"})
    assert first.headers["X-RateLimit-Minutely-Remaining"] == "59"
    assert first.headers["X-RateLimit-Remaining"] == "4999"
    reset = int(first.headers["X-RateLimit-Minutely-Reset"])
    assert reset == int(datetime(2026, 11, 23, 9, 1, tzinfo=UTC).timestamp() * 1000)
    for _ in range(59):
        api(base, token, path, {"$select": "ID"})
    refused = api(base, token, path, {"$select": "ID"})
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Minutely-Remaining"] == "0"
    assert "X-RateLimit-Remaining" not in refused.headers
    other = api(base, token, "3101002/hrm/Costcenters", {"$select": "ID"})
    assert other.status_code == 200  # per division
    assert api(base, token, "current/Me").status_code == 200  # not counted
    clock.advance(60)
    again = api(base, token, path, {"$select": "ID"})
    assert again.status_code == 200 and again.headers["X-RateLimit-Remaining"] == "4939"


def test_daily_limit_answers_429_with_the_daily_reset(sandbox, base, clock):
    sandbox.limits.daily_limit = 2
    token = connect(sandbox, base)
    for _ in range(2):
        assert api(base, token, f"{DIV}/system/Divisions").status_code == 200
    refused = api(base, token, f"{DIV}/system/Divisions")
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Reset"] == str(
        int(datetime(2026, 11, 24, tzinfo=UTC).timestamp() * 1000)
    )
    clock.advance(15 * 3600)  # past midnight UTC: a new daily window
    assert api(base, connect(sandbox, base), f"{DIV}/system/Divisions").status_code == 200


def test_ten_errors_on_an_endpoint_block_it_for_an_hour(sandbox, base, clock):
    token = connect(sandbox, base)
    bad = {"$filter": "Nope eq 1"}
    for _ in range(10):
        assert api(base, token, f"{DIV}/salesinvoice/SalesInvoices", bad).status_code == 400
    good = {"$select": "InvoiceID", "$filter": EVERY}
    blocked = api(base, token, f"{DIV}/salesinvoice/SalesInvoices", good)
    assert blocked.status_code == 429
    assert "rate limit exceeded" in blocked.json()["error"]["message"]["value"].lower()
    assert api(base, token, f"{DIV}/hrm/Costcenters").status_code == 200
    clock.advance(3600)
    fresh = connect(sandbox, base)
    assert api(base, fresh, f"{DIV}/salesinvoice/SalesInvoices", good).status_code == 200


@pytest.fixture
def sandbox_without(clock):
    """sandbox_without(*names) -> (sandbox, base, token): every other limit on."""
    servers = []

    def make(*names):
        sandbox = ExactSandbox(clock=clock, limits_off=set(names))
        sandbox.add_division(1, "One")
        server, base = serve(sandbox)
        servers.append(server)
        return sandbox, base, connect(sandbox, base)

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


def test_every_limit_is_on_by_default_and_unknown_names_are_refused(clock):
    assert ExactSandbox(clock=clock).limits_off == frozenset()
    with pytest.raises(ValueError, match="'minutly'"):
        ExactSandbox(clock=clock, limits_off={"minutly"})
    with pytest.raises(TypeError):
        ExactSandbox(clock=clock, limits_off="minutely")


def test_the_minutely_limit_can_be_switched_off_alone(sandbox_without):
    sandbox, base, token = sandbox_without("minutely")
    sandbox.limits.daily_limit = 62
    answers = [api(base, token, "1/system/Divisions") for _ in range(62)]
    assert {a.status_code for a in answers} == {200}
    assert "X-RateLimit-Minutely-Remaining" not in answers[0].headers
    assert answers[-1].headers["X-RateLimit-Remaining"] == "0"
    assert api(base, token, "1/system/Divisions").status_code == 429  # the daily limit holds


def test_the_daily_limit_can_be_switched_off_alone(sandbox_without, clock):
    sandbox, base, token = sandbox_without("daily")
    sandbox.limits.daily_limit = 2
    answers = [api(base, token, "1/system/Divisions") for _ in range(60)]
    assert {a.status_code for a in answers} == {200}
    assert "X-RateLimit-Remaining" not in answers[0].headers
    assert answers[-1].headers["X-RateLimit-Minutely-Remaining"] == "0"
    assert api(base, token, "1/system/Divisions").status_code == 429  # the minutely limit holds


def test_the_error_budget_can_be_switched_off_alone(sandbox_without):
    sandbox, base, token = sandbox_without("error_budget")
    bad = {"$filter": "Nope eq 1"}
    for _ in range(12):
        assert api(base, token, "1/system/Divisions", bad).status_code == 400
    assert api(base, token, "1/system/Divisions").status_code == 200
    assert sandbox.errors.blocked == {}


def test_the_early_refresh_rule_can_be_switched_off_alone(sandbox_without, clock):
    sandbox, base, token = sandbox_without("early_refresh")
    clock.advance(10)
    early = token_request(base, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert early.status_code == 200
    old = token_request(base, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert old.status_code == 401  # rotation and reuse detection still hold


# -- webhooks ---------------------------------------------------------------------------------
class Receiver:
    def __init__(self, status=200):
        self.status, self.posts = status, []

    def __call__(self, url, body):
        self.posts.append((url, body))
        return self.status


def subscribe(base, token, topic="SalesInvoices", prefer=True):
    headers = {"Authorization": f"Bearer {token['access_token']}", **JSON}
    if prefer:
        headers["Prefer"] = "return=representation"
    return requests.post(
        f"{base}/api/v1/{DIV}/webhooks/WebhookSubscriptions",
        headers=headers,
        json={"CallbackURL": "https://connector.example.test/webhooks/exact/", "Topic": topic},
        timeout=5,
    )


def test_subscription_is_validated_with_an_empty_post_and_duplicates_answer_500(clock):
    receiver = Receiver()
    sandbox = ExactSandbox(clock=clock, webhook_transport=receiver)
    sandbox.seed_company(invoices_per_division=1)
    server, base = serve(sandbox)
    try:
        token = connect(sandbox, base)
        created = subscribe(base, token)
        assert created.status_code == 201 and created.json()["d"]["Topic"] == "SalesInvoices"
        assert receiver.posts == [("https://connector.example.test/webhooks/exact/", b"")]
        duplicate = subscribe(base, token)
        assert duplicate.status_code == 500
        assert duplicate.json()["error"]["message"]["value"] == "Data already exists"
        listed = api(
            base, token, f"{DIV}/webhooks/WebhookSubscriptions", {"$select": "ID,Topic,CallbackURL"}
        ).json()["d"]["results"]
        assert [r["ID"] for r in listed] == [created.json()["d"]["ID"]]
        gone = requests.delete(
            f"{base}/api/v1/{DIV}/webhooks/WebhookSubscriptions(guid'{listed[0]['ID']}')",
            headers={"Authorization": f"Bearer {token['access_token']}"},
            timeout=5,
        )
        assert gone.status_code == 204
        assert subscribe(base, token, prefer=False).status_code == 204
        assert subscribe(base, token, topic="GLAccounts").status_code == 400
    finally:
        server.shutdown()


def test_subscription_fails_when_the_callback_does_not_answer_2xx(clock):
    sandbox = ExactSandbox(clock=clock, webhook_transport=Receiver(status=503))
    sandbox.add_division(DIV, "Amsterdam")
    server, base = serve(sandbox)
    try:
        answer = subscribe(base, connect(sandbox, base))
        assert answer.status_code == 500
        assert answer.json()["error"]["message"]["value"].startswith(
            "Invalid: Post to callback URL endpoint returns 503"
        )
        assert sandbox.subscriptions == []
    finally:
        server.shutdown()


def test_webhook_body_is_exacts_byte_shape_and_signed_in_upper_hex(clock):
    receiver = Receiver()
    sandbox = ExactSandbox(clock=clock, webhook_transport=receiver)
    sandbox.seed_company(invoices_per_division=1)
    server, base = serve(sandbox)
    try:
        subscribe(base, connect(sandbox, base))
        sandbox.webhooks_enabled = True
        invoice = sandbox.add_sales_invoice(
            DIV,
            account=customer(sandbox),
            invoice_date=date(2026, 11, 1),
            lines=[{"AmountFC": 5.0}],
        )
    finally:
        server.shutdown()
    url, body = receiver.posts[-1]
    m = re.fullmatch(rb'\{"Content":(.*),"HashCode":"([0-9A-F]{64})"\}', body, re.S)
    assert m, body
    expected = hmac.new(b"sandbox-webhook-secret", m.group(1), hashlib.sha256).hexdigest().upper()
    assert m.group(2).decode() == expected == sandbox.sign(m.group(1))
    assert rb"\/api\/v1\/" in body
    assert re.search(rb"(?<!\\)/", m.group(1)) is None  # every slash escaped as \/
    content = json.loads(m.group(1))
    assert list(content)[:2] == ["Topic", "ClientId"]
    assert content["Action"] == "Create" and content["Key"] == invoice["InvoiceID"]
    assert content["Division"] == DIV and content["ClientId"] == "sandbox-client"
    assert content["ExactOnlineEndpoint"].endswith(
        f"/api/v1/{DIV}/salesinvoice/SalesInvoices(guid'{invoice['InvoiceID']}')"
    )
    assert content["EventCreatedOn"].startswith("2026-11-23T10:00:00")  # Amsterdam local
    assert sandbox.webhook_deliveries[-1]["status"] == 200


# -- faults, concurrency, routing, clock ------------------------------------------------------
def test_fail_next_injects_errors_then_recovers(sandbox, base):
    token = connect(sandbox, base)
    sandbox.fail_next("Costcenters", 500, count=2)
    path = f"{DIV}/hrm/Costcenters"
    statuses = [api(base, token, path).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert [c[2] for c in sandbox.calls if c[1].endswith("Costcenters")] == [500, 500, 200]
    sandbox.fail_next("Costcenters", 0, timeout=True, sleep=0.05)
    with pytest.raises(requests.ConnectionError):
        api(base, token, path)


def test_eight_threads_page_concurrently_and_each_sees_every_row_once(clock):
    sandbox = ExactSandbox(clock=clock)  # 8 threads x 6 pages: under 60 calls a minute
    sandbox.seed_company(invoices_per_division=1)
    sandbox.bulk_add_sales_invoices(DIV, 300, lines_per_invoice=1)
    server, base = serve(sandbox)
    token = connect(sandbox, base)
    results, errors = [], []

    def page_all():
        try:
            seen = []
            url = (
                f"{base}/api/v1/{DIV}/salesinvoice/SalesInvoices?$select=InvoiceID&$filter={EVERY}"
            )
            while url:
                d = requests.get(
                    url,
                    headers={"Authorization": f"Bearer {token['access_token']}", **JSON},
                    timeout=10,
                ).json()["d"]
                seen += [r["InvoiceID"] for r in d["results"]]
                url = d.get("__next")
            results.append(seen)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=page_all) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    server.shutdown()
    assert errors == []
    assert len(results) == 8 and all(len(r) == len(set(r)) == 301 for r in results)


def test_latency_delays_every_request(clock):
    sandbox = ExactSandbox(clock=clock, latency=0.05)
    server, base = serve(sandbox)
    try:
        started = time.monotonic()
        requests.get(f"{base}/api/v1/current/Me", timeout=5)
        assert time.monotonic() - started >= 0.05
    finally:
        server.shutdown()


def test_combined_app_mounts_exact_under_a_prefix_and_next_links_keep_it(sandbox):
    def monday(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["SCRIPT_NAME"].encode()]

    sandbox.bulk_add_sales_invoices(DIV, 60, lines_per_invoice=1)
    server, base = serve(combined_app(sandbox, monday))
    try:
        assert requests.get(f"{base}/monday/v2", timeout=5).text == "/monday"
        token = connect(sandbox, f"{base}/exact")
        answer = api(
            f"{base}/exact",
            token,
            f"{DIV}/salesinvoice/SalesInvoices",
            {"$select": "InvoiceID", "$filter": EVERY},
        )
        assert answer.json()["d"]["__next"].startswith(f"{base}/exact/api/v1/{DIV}/")
    finally:
        server.shutdown()


def test_seed_company_builds_three_offices_with_reference_data(sandbox):
    assert [name for _, name in sandbox.division_list()] == [
        "Bouwgroep Amsterdam",
        "Bouwgroep Rotterdam",
        "Bouwgroep Utrecht",
    ]
    centers = sandbox.cost_centers(DIV)
    assert any(c["EndDate"] is not None for c in centers) and len(centers) >= 6
    assert any(g["IsBlocked"] for g in sandbox.gl_accounts(DIV))
    assert any(a["IsSupplier"] for a in sandbox.accounts(DIV))


def test_sandbox_clock_is_frozen_by_default_and_can_follow_real_time():
    frozen = SandboxClock(START)
    assert frozen.now() == START
    frozen.advance(90)
    assert (frozen.now() - START).total_seconds() == 90
    running = SandboxClock(START, frozen=False, speed=100.0)
    time.sleep(0.02)
    assert (running.now() - START).total_seconds() >= 1.5
    assert running.now().tzinfo is not None


def test_bulk_endpoint_needs_select_and_pages_1000_rows(sandbox, base):
    sandbox.bulk_add_sales_invoices(3101002, 1100, lines_per_invoice=1)
    token = connect(sandbox, base)
    path = "3101002/bulk/SalesInvoice/SalesInvoices"
    assert api(base, token, path).status_code == 400
    first = api(base, token, path, {"$select": "InvoiceID", "$filter": "Status eq 20"}).json()
    assert len(first["d"]["results"]) == 1000 and "$skiptoken=" in first["d"]["__next"]


def test_moving_a_division_regenerates_timestamps_below_old_cursors(sandbox, base):
    token = connect(sandbox, base)
    select = {"$select": "Timestamp,InvoiceID"}
    before = api(
        base,
        token,
        f"{DIV}/sync/SalesInvoice/SalesInvoices",
        {**select, "$filter": "Timestamp gt 1L"},
    ).json()["d"]["results"]
    cursor = max(r["Timestamp"] for r in before)
    sandbox.move_division(DIV)
    stale = api(
        base,
        token,
        f"{DIV}/sync/SalesInvoice/SalesInvoices",
        {**select, "$filter": f"Timestamp gt {cursor}L"},
    ).json()["d"]["results"]
    assert stale == []  # a cursor that ignores the move silently misses everything
    fresh = api(
        base,
        token,
        f"{DIV}/sync/SalesInvoice/SalesInvoices",
        {**select, "$filter": "Timestamp gt 1L"},
    ).json()["d"]["results"]
    assert sorted(r["InvoiceID"] for r in fresh) == sorted(r["InvoiceID"] for r in before)
    divisions = api(
        base, token, f"{DIV}/system/Divisions", {"$select": "Code,DivisionMoveDate"}
    ).json()["d"]["results"]
    moved = {d["Code"]: d["DivisionMoveDate"] for d in divisions}
    assert moved[DIV] is not None and moved[3101002] is None


def test_concurrent_refreshes_with_one_token_let_one_win_and_kill_the_chain(sandbox, base, clock):
    token = connect(sandbox, base)
    clock.advance(600)
    answers = []

    def refresh():
        answers.append(
            token_request(base, grant_type="refresh_token", refresh_token=token["refresh_token"])
        )

    threads = [threading.Thread(target=refresh) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [401] * 7
    winner = next(a.json() for a in answers if a.status_code == 200)
    assert api(base, winner, "current/Me").status_code == 401  # the reuse killed the chain


def test_calls_to_a_division_outside_the_consent_are_refused(sandbox, base):
    params = {
        "client_id": "sandbox-client",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "decision": "approve",
        "division": [str(DIV)],
    }
    answer = requests.post(f"{base}/api/oauth2/auth", data=params, allow_redirects=False, timeout=5)
    code = parse_qs(urlparse(answer.headers["Location"]).query)["code"][0]
    token = token_request(
        base, grant_type="authorization_code", code=code, redirect_uri=REDIRECT
    ).json()
    assert api(base, token, f"{DIV}/system/Divisions").status_code == 200
    assert api(base, token, "3101002/system/Divisions").status_code == 403


def test_updates_and_deletes_send_update_and_delete_notifications(clock):
    receiver = Receiver()
    sandbox = ExactSandbox(clock=clock, webhook_transport=receiver)
    sandbox.seed_company(invoices_per_division=1)
    server, base = serve(sandbox)
    try:
        subscribe(base, connect(sandbox, base), topic="PurchaseOrders")
    finally:
        server.shutdown()
    sandbox.webhooks_enabled = True
    supplier = next(a["ID"] for a in sandbox.accounts(DIV) if a["IsSupplier"])
    order = sandbox.add_purchase_order(
        DIV,
        account=supplier,
        order_date=date(2026, 6, 1),
        lines=[{"AmountFC": 3.0, "CostCenter": "AMS"}],
    )
    sandbox.update_purchase_order(DIV, order["PurchaseOrderID"], OrderStatus=40)
    sandbox.delete_purchase_order(DIV, order["PurchaseOrderID"])
    sandbox.add_sales_invoice(
        DIV, account=customer(sandbox), invoice_date=date(2026, 6, 1), lines=[{"AmountFC": 1.0}]
    )  # no SalesInvoices subscription
    contents = [
        json.loads(re.match(rb'\{"Content":(.*),"HashCode"', body).group(1))
        for _, body in receiver.posts[1:]
    ]
    assert [(c["Topic"], c["Action"]) for c in contents] == [
        ("PurchaseOrders", "Create"),
        ("PurchaseOrders", "Update"),
        ("PurchaseOrders", "Delete"),
    ]
    assert {c["Key"] for c in contents} == {order["PurchaseOrderID"]}


def test_a_second_authorization_obsoletes_the_first_chains_refresh(sandbox, base, clock):
    first = connect(sandbox, base)
    second = connect(sandbox, base)
    assert api(base, first, "current/Me").status_code == 200  # access lives until expiry
    clock.advance(600)
    refused = token_request(base, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    renewed = token_request(base, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert renewed.status_code == 200


def test_a_fault_on_the_token_endpoint_is_recorded_as_a_token_request(sandbox, base, clock):
    token = connect(sandbox, base)
    clock.advance(600)
    sandbox.fail_next("oauth2/token", 503)
    failed = token_request(base, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert failed.status_code == 503
    retried = token_request(base, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert retried.status_code == 200
    assert [(r["grant_type"], r["outcome"]) for r in sandbox.token_requests] == [
        ("authorization_code", "issued"),
        ("refresh_token", "fault"),
        ("refresh_token", "refreshed"),
    ]


def test_purchase_invoice_lines_are_found_by_their_own_id_and_by_invoice(sandbox, base):
    token = connect(sandbox, base)
    supplier = next(a["ID"] for a in sandbox.accounts(DIV) if a["IsSupplier"])
    invoice = sandbox.add_purchase_invoice(
        DIV,
        account=supplier,
        invoice_date=date(2026, 7, 1),
        lines=[{"Amount": 40.0, "CostCenter": "AMS"}],
    )
    line_id = invoice["PurchaseInvoiceLines"][0]["ID"]
    path = f"{DIV}/purchase/PurchaseInvoiceLines"
    by_id = api(base, token, path, {"$filter": f"ID eq guid'{line_id}'", "$select": "ID,Amount"})
    assert [r["ID"] for r in by_id.json()["d"]["results"]] == [line_id]
    by_parent = api(
        base,
        token,
        path,
        {"$filter": f"InvoiceID eq guid'{invoice['ID']}'", "$select": "Amount,CostCenter"},
    )
    assert by_parent.json()["d"]["results"][0]["Amount"] == 40.0


def follow(base, token, answer) -> tuple[list[dict], int]:
    rows, calls = [], 0
    while True:
        calls += 1
        d = answer.json()["d"]
        rows += d["results"]
        if "__next" not in d:
            return rows, calls
        answer = requests.get(
            d["__next"],
            headers={"Authorization": f"Bearer {token['access_token']}", **JSON},
            timeout=5,
        )


def test_orderby_and_top_hold_across_pages(sandbox, base):
    sandbox.bulk_add_sales_invoices(3101002, 130, lines_per_invoice=1)
    token = connect(sandbox, base)
    path = "3101002/salesinvoice/SalesInvoices"
    ordered = api(
        base,
        token,
        path,
        {"$select": "InvoiceID,AmountFC", "$orderby": "AmountFC desc", "$filter": EVERY},
    )
    rows, calls = follow(base, token, ordered)
    amounts = [r["AmountFC"] for r in rows]
    assert calls == 3 and len({r["InvoiceID"] for r in rows}) == 136
    assert amounts == sorted(amounts, reverse=True)
    five = api(base, token, path, {"$select": "InvoiceID", "$top": "5", "$filter": EVERY})
    five = five.json()["d"]
    assert len(five["results"]) == 5 and "__next" not in five
    hundred, calls = follow(
        base,
        token,
        api(base, token, path, {"$select": "InvoiceID", "$top": "100", "$filter": EVERY}),
    )
    assert len(hundred) == 100 and calls == 2
    sideways = api(base, token, path, {"$orderby": "AmountFC sideways", "$filter": EVERY})
    assert sideways.status_code == 400 and "$orderby" in sideways.text
