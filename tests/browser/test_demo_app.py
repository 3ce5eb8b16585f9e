"""The demo's sandbox app (what `manage.py run_sandbox` serves), without a browser."""

from __future__ import annotations

import pytest
import requests

from integrations.sandbox.demo import DEMO_MONDAY_TOKEN, Demo
from integrations.sandbox.server import serve


@pytest.fixture(scope="module")
def demo():
    demo = Demo(admin_url="http://127.0.0.1:8000/admin/")
    server, url = serve(demo)
    yield demo, url
    server.shutdown()
    server.server_close()


def test_landing_page_offers_a_post_button_per_division_the_token_and_the_board(demo):
    app, url = demo
    page = requests.get(f"{url}/", timeout=5).text
    for code, name in app.divisions():
        assert f'id="post-{code}"' in page and name in page
    assert {name for _, name in app.divisions()} == {
        "Bouwgroep Amsterdam",
        "Bouwgroep Rotterdam",
        "Bouwgroep Utrecht",
    }
    assert DEMO_MONDAY_TOKEN in page
    assert f'href="/monday/boards/{app.board_id}"' in page
    assert "http://127.0.0.1:8000/admin/" in page
    assert requests.get(f"{url}/monday/boards/{app.board_id}", timeout=5).status_code == 200


def test_posting_creates_an_open_invoice_with_active_codes_and_confirms_it(demo):
    app, url = demo
    division = app.divisions()[1][0]
    answer = requests.post(f"{url}/post-invoice", data={"division": division}, timeout=5)
    assert answer.status_code == 200 and answer.url.startswith(f"{url}/?posted=")
    number = answer.url.split("=")[1]
    assert f"Invoice {number} posted" in answer.text
    gl = {g["ID"]: g for g in app.exact.gl_accounts(division)}
    active = {c["Code"] for c in app.exact.cost_centers(division) if c["Active"]}
    # Every invoice the demo posts uses unblocked revenue accounts and open cost centers.
    for _ in range(20):
        posted = app.post_invoice(division)
        assert posted["SalesInvoiceLines"]
        for line in posted["SalesInvoiceLines"]:
            assert not gl[line["GLAccount"]]["IsBlocked"]
            assert gl[line["GLAccount"]]["Code"].startswith("8")
            assert line["CostCenter"] in active


def test_a_bad_division_is_refused(demo):
    _, url = demo
    no_such = requests.post(
        f"{url}/post-invoice", data={"division": "999"}, allow_redirects=False, timeout=5
    )
    assert no_such.status_code == 404
    missing = requests.post(f"{url}/post-invoice", data={}, allow_redirects=False, timeout=5)
    assert missing.status_code == 400


def test_the_board_labels_name_every_live_code_but_the_review_cases(demo):
    app, _ = demo
    columns = {c["id"]: c for c in app.monday.board_columns(app.board_id)}
    gl_labels = {label["name"] for label in columns["gl_account"]["settings"]["labels"]}
    cc_labels = {label["name"] for label in columns["cost_center"]["settings"]["labels"]}
    status_labels = set(columns["status"]["settings"]["labels"].values())
    rotterdam = app.divisions()[1][0]
    for gl in app.exact.gl_accounts(rotterdam):
        named = f"{gl['Code']} {gl['Description']}" in gl_labels
        assert named == (not gl["IsBlocked"]), gl["Code"]  # blocked 8090: no label
    centers = {c["Code"]: c for c in app.exact.cost_centers(rotterdam)}
    # P206 is new and the board names it differently; P200 is closed.
    assert {code for code in centers if code in cc_labels} == set(centers) - {"P200", "P206"}
    assert {"Kralingen (P206)", "Closed projects"} <= cc_labels
    # Every state Exact's sales invoices can be in has its label (specs.py, credit, deleted).
    assert {"Draft", "Open", "Processed", "Credit note", "Deleted in Exact"} <= status_labels


def test_the_review_cases_are_a_handful_of_the_seeded_invoices(demo):
    app, _ = demo
    invoices = sum(  # the seeded ones, not those the tests above posted
        1
        for code, _ in app.divisions()
        for doc in app.exact.store.docs[(code, "si")].values()
        if doc["header"]["Description"] != "Posted from the sandbox demo"
    )
    assert invoices == 192
    assert app.review_cases == 12
    assert 0.05 <= app.review_cases / invoices <= 0.10
