"""The sandbox demo: both emulations seeded with a realistic company, plus a landing page with a
"post a new invoice" button per division. Served by `python manage.py run_sandbox`."""

from __future__ import annotations

import html
import random
from datetime import date
from urllib.parse import parse_qs

from integrations.sandbox import demo_company
from integrations.sandbox.exact import ExactSandbox
from integrations.sandbox.monday import MondaySandbox
from integrations.sandbox.monday_fixtures import FINANCE_GROUPS

DEMO_MONDAY_TOKEN = "sandbox-monday-token"
DEMO_BOARD_NAME = "Finance — sales invoices"


class Demo:
    """A seeded Exact sandbox, a Monday sandbox with a finance board, and a landing page."""

    def __init__(
        self,
        *,
        exact: ExactSandbox | None = None,
        monday: MondaySandbox | None = None,
        seed: int = 42,
        admin_url: str = "http://127.0.0.1:8000/admin/",
    ):
        self.exact = exact or ExactSandbox()
        self.monday = monday or MondaySandbox()
        self.admin_url = admin_url
        self.random = random.Random(seed)
        self.exact.seed_company(seed=seed)
        self.review_cases = demo_company.add_review_cases(self.exact, seed=seed)
        self.exact.webhooks_enabled = True
        self.monday.add_token(
            DEMO_MONDAY_TOKEN, user_name="Demo Admin", account_name="Demo Finance"
        )
        self.board_id = self.monday.add_board(
            DEMO_BOARD_NAME, columns=demo_company.board_columns(self.exact), groups=FINANCE_GROUPS
        )

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        for prefix, app in (("/exact", self.exact), ("/monday", self.monday)):
            if path == prefix or path.startswith(prefix + "/"):
                environ = dict(environ)
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = path[len(prefix) :] or "/"
                return app(environ, start_response)
        if path == "/post-invoice" and environ.get("REQUEST_METHOD") == "POST":
            return self._post_invoice(environ, start_response)
        if path != "/":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not Found"]
        return self._landing(environ, start_response)

    def divisions(self) -> list[tuple[int, str]]:
        return self.exact.division_list()

    def post_invoice(self, division: int) -> dict:
        """Create a new open sales invoice in the Exact sandbox (fires its webhook). Its codes
        all have a board label, so once they are mapped it arrives clean."""
        accounts = self.exact.accounts(division, customers=True)
        unlabelled = demo_company.unlabelled_codes(self.exact)
        gl_accounts = [
            g
            for g in self.exact.gl_accounts(division)
            if g["Code"].startswith("8") and not g["IsBlocked"] and g["Code"] not in unlabelled
        ]
        cost_centers = [
            c
            for c in self.exact.cost_centers(division)
            if c["Active"] and c["Code"] not in unlabelled
        ]
        lines = [
            {
                "GLAccount": self.random.choice(gl_accounts)["ID"],
                "CostCenter": self.random.choice(cost_centers)["Code"],
                "Description": self.random.choice(
                    ["Consulting", "Licences", "Training", "Support"]
                ),
                "Quantity": 1,
                "AmountFC": round(self.random.uniform(100, 5000), 2),
            }
            for _ in range(self.random.randint(1, 3))
        ]
        account = self.random.choice(accounts)
        return self.exact.add_sales_invoice(
            division,
            account=account["ID"],
            lines=lines,
            invoice_date=date.today(),
            description="Posted from the sandbox demo",
        )

    def _post_invoice(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = parse_qs(environ["wsgi.input"].read(length).decode())
        try:
            division = int(form["division"][0])
        except (KeyError, ValueError):
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"Choose a division."]
        if division not in dict(self.divisions()):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"No such division."]
        invoice = self.post_invoice(division)
        location = f"{environ.get('SCRIPT_NAME', '')}/?posted={invoice['InvoiceNumber']}"
        start_response("303 See Other", [("Location", location)])
        return [b""]

    def _landing(self, environ, start_response):
        root = environ.get("SCRIPT_NAME", "")
        posted = parse_qs(environ.get("QUERY_STRING", "")).get("posted", [""])[0]
        notice = (
            f'<p id="posted" style="background:#e8f5e9;padding:6px">Invoice '
            f"{html.escape(posted)} posted in Exact Online (sandbox). Its webhook went to the "
            f'connector; watch the <a href="{root}/monday/boards/{self.board_id}">board</a>.</p>'
            if posted
            else ""
        )
        divisions = "".join(
            f'<form method="post" action="{root}/post-invoice">'
            f'<input type="hidden" name="division" value="{code}">'
            f'<button type="submit" id="post-{code}">Post a new sales invoice in '
            f"{html.escape(name)} ({code})</button></form>"
            for code, name in self.divisions()
        )
        page = f"""<!doctype html><html><head><title>ml-connector sandbox</title></head><body>
<h1>ml-connector sandbox</h1>{notice}
<p>Local emulations of Exact Online (<code>/exact</code>) and Monday.com (<code>/monday/v2</code>).
Nothing here is real. The connector's admin: <a href="{html.escape(self.admin_url)}">{html.escape(self.admin_url)}</a>.</p>
<h2>Monday.com</h2>
<p>Personal API token for the sandbox: <code id="monday-token">{DEMO_MONDAY_TOKEN}</code></p>
<p><a id="board-link" href="{root}/monday/boards/{self.board_id}">Open the finance board</a>
(read-only view; new items appear here)</p>
<h2>Exact Online</h2>
<p>Three administrations (divisions), each with a chart of GL accounts, cost centers per office
and project, customers, suppliers, invoices and orders. You sign in on the sandbox's consent
page when you click "Connect Exact Online" in the admin.</p>{divisions}
</body></html>"""
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [page.encode()]
