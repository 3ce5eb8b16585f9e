"""The sandbox demo: both emulations seeded with a realistic company, plus a landing page with a
"post a new invoice" button. Served by `python manage.py run_sandbox`."""

from __future__ import annotations

import html
import random
from datetime import date
from urllib.parse import parse_qs

from integrations.sandbox.exact import ExactSandbox
from integrations.sandbox.monday import MondaySandbox

DEMO_MONDAY_TOKEN = "sandbox-monday-token"


class Demo:
    """A seeded Exact sandbox, a Monday sandbox with a finance board, and a landing page."""

    def __init__(
        self, *, exact: ExactSandbox | None = None, monday: MondaySandbox | None = None, seed=42
    ):
        self.exact = exact or ExactSandbox()
        self.monday = monday or MondaySandbox()
        self.random = random.Random(seed)
        self.exact.seed_company(seed=seed)
        self.exact.webhooks_enabled = True
        self.monday.add_token(
            DEMO_MONDAY_TOKEN, user_name="Demo Admin", account_name="Demo Finance"
        )
        self.board_id = self.monday.finance_board("Finance — sales invoices")

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
        return self._landing(start_response)

    def divisions(self) -> list[tuple[int, str]]:
        return self.exact.division_list()

    def post_invoice(self, division: int) -> dict:
        """Create a new open sales invoice in the Exact sandbox (fires its webhook)."""
        accounts = self.exact.accounts(division, customers=True)
        gl_accounts = [g for g in self.exact.gl_accounts(division) if g["Code"].startswith("8")]
        cost_centers = self.exact.cost_centers(division)
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
        invoice = self.post_invoice(int(form["division"][0]))
        start_response("303 See Other", [("Location", f"/?posted={invoice['InvoiceID']}")])
        return [b""]

    def _landing(self, start_response):
        divisions = "".join(
            f'<form method="post" action="/post-invoice"><input type="hidden" name="division" value="{code}">'
            f'<button type="submit">Post a new sales invoice in {html.escape(name)} ({code})</button></form>'
            for code, name in self.divisions()
        )
        page = f"""<!doctype html><html><head><title>ml-connector sandbox</title></head><body>
<h1>ml-connector sandbox</h1>
<p>Local emulations of Exact Online (<code>/exact</code>) and Monday.com (<code>/monday/v2</code>).
Nothing here is real.</p>
<h2>Monday.com</h2>
<p>Personal API token for the sandbox: <code id="monday-token">{DEMO_MONDAY_TOKEN}</code></p>
<p><a href="/monday/boards/{self.board_id}">Open the finance board</a> (read-only view)</p>
<h2>Exact Online</h2>{divisions}
</body></html>"""
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [page.encode()]
