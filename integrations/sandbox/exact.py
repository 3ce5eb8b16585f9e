"""A strict, in-process emulation of Exact Online for the demo and the end-to-end tests.

A WSGI application: OAuth pages and token endpoint under /api/oauth2/, the REST API under
/api/v1/. It follows ../shared/reference/exact-online.md (token rules §1, OData §3, limits §4,
sync §5, fields §6, webhooks §7); modules: exact_oauth (tokens), exact_api (HTTP), exact_query and
exact_odata (query options), exact_store and exact_docs (data), exact_wire (serialisation),
exact_limits, exact_webhooks, exact_seed. Never imported by production code.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from datetime import date

from integrations.sandbox import exact_docs, exact_seed, exact_webhooks
from integrations.sandbox.clock import SandboxClock
from integrations.sandbox.exact_api import REASONS, ApiHandlers, base_url, error_response
from integrations.sandbox.exact_limits import ErrorBudget, RateLimiter
from integrations.sandbox.exact_oauth import TokenAuthority
from integrations.sandbox.exact_store import SANDBOX_USER_ID, Store
from integrations.sandbox.exact_wire import wants_json

FAULT_MESSAGES = {
    500: "An error has occurred.",
    503: "Service Unavailable",
    429: "Too many requests",
}


class DropConnection(Exception):  # noqa: N818 - it is a signal, not an error
    """Raised by the app to make sandbox.server close the connection without an answer."""


class ExactSandbox(ApiHandlers):
    def __init__(
        self,
        *,
        clock: SandboxClock | None = None,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",  # noqa: S107 - the sandbox's own fake secret
        webhook_secret: str = "sandbox-webhook-secret",  # noqa: S107
        rate_limits: bool = True,
        latency: float = 0.0,
        webhook_transport: Callable[[str, bytes], int] | None = None,
        redirect_uris: list[str] | None = None,
    ) -> None:
        self.clock = clock or SandboxClock(frozen=False)
        self.client_id = client_id
        self.webhook_secret = webhook_secret
        self.rate_limits = rate_limits
        self.latency = latency
        self.webhook_transport = webhook_transport or exact_webhooks.default_transport
        self.lock = threading.RLock()
        self.store = Store(self.clock.now)
        self.auth = TokenAuthority(
            client_id=client_id,
            client_secret=client_secret,
            user_id=SANDBOX_USER_ID,
            redirect_uris=redirect_uris,
        )
        self.limits = RateLimiter()
        self.errors = ErrorBudget()
        self.subscriptions: list[dict] = []
        self.webhooks_enabled = False
        self.webhook_deliveries: list[dict] = []  # url, topic, action, key, division, body, status
        self.token_requests: list[dict] = []
        self.calls: list[tuple[str, str, int]] = []
        self.current_division: int | None = None
        self.fault_sleep = 2.0  # seconds a "timeout" fault waits before dropping the connection
        self.public_base_url = "https://start.exactonline.nl"  # updated from each request
        self._faults: list[dict] = []

    # -- WSGI ---------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        if self.latency:
            time.sleep(self.latency)
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        self.public_base_url = base_url(environ)
        fault = self._take_fault(path)
        if fault is not None:
            status, headers, body = self._fault_response(environ, method, path, fault)
        elif path == "/api/oauth2/auth":
            status, headers, body = self._authorize(environ)
        elif path == "/api/oauth2/token":
            status, headers, body = self._token(environ)
        elif path.startswith("/api/v1/"):
            status, headers, body = self._api(environ, method, path)
        else:
            status, headers, body = 404, [("Content-Type", "text/plain")], b"Not Found"
        headers = [*headers, ("Content-Length", str(len(body)))]
        start_response(f"{status} {REASONS.get(status, 'Error')}", headers)
        return [body]

    def _take_fault(self, path: str) -> dict | None:
        with self.lock:
            for fault in self._faults:
                if fault["needle"] in path and fault["remaining"] > 0:
                    fault["remaining"] -= 1
                    return dict(fault)
        return None

    def _fault_response(self, environ, method, path, fault):
        if fault["timeout"]:
            time.sleep(fault["sleep"])
            raise DropConnection(path)
        headers = {}
        if fault["status"] == 429:
            reset = int((self.clock.timestamp() // 60 + 1) * 60 * 1000)
            headers = {
                "X-RateLimit-Minutely-Limit": str(self.limits.minutely_limit),
                "X-RateLimit-Minutely-Remaining": "0",
                "X-RateLimit-Minutely-Reset": str(reset),
            }
        message = FAULT_MESSAGES.get(fault["status"], "Sandbox fault")
        answer = error_response(fault["status"], message, wants_json(environ), headers)
        if path.startswith("/api/v1/"):
            with self.lock:
                self.calls.append((method, path, fault["status"]))
        return answer

    # -- test controls ------------------------------------------------------------------------
    def fail_next(
        self,
        path_contains: str,
        status: int,
        *,
        count: int = 1,
        timeout: bool = False,
        sleep: float | None = None,
    ) -> None:
        """The next `count` requests whose path contains the text fail with `status`, or with a
        dropped connection after `sleep` seconds (default `fault_sleep`) when `timeout`."""
        with self.lock:
            self._faults.append(
                {
                    "needle": path_contains,
                    "status": status,
                    "remaining": count,
                    "timeout": timeout,
                    "sleep": self.fault_sleep if sleep is None else sleep,
                }
            )

    def sign(self, content: bytes) -> str:
        return hmac.new(self.webhook_secret.encode(), content, hashlib.sha256).hexdigest().upper()

    def issue_authorization_code(self, redirect_uri: str) -> str:
        with self.lock:
            return self.auth.issue_code(redirect_uri, self.clock.now())

    def add_division(self, code: int, name: str, currency: str = "EUR") -> None:
        with self.lock:
            self.store.add_division(code, name, currency)
            if self.current_division is None:
                self.current_division = code

    def add_gl_account(self, division, code, description, *, blocked=False) -> dict:
        kind = 110 if str(code).startswith("8") else 120
        row = {
            "Code": str(code),
            "Description": description,
            "SearchCode": str(code),
            "Type": kind,
            "TypeDescription": "Revenue" if kind == 110 else "Other costs",
            "BalanceSide": "C" if kind == 110 else "D",
            "BalanceType": "W" if str(code)[:1] in "456789" else "B",
            "IsBlocked": blocked,
            "VATCode": None,
            "Costcenter": None,
            "Costunit": None,
        }
        return self._mutate(lambda: self.store.add_row(division, "gl", row))

    def add_cost_center(self, division, code, description, *, end_date: date | None = None):
        row = {
            "Code": str(code),
            "Description": description,
            "EndDate": end_date,
            "Active": end_date is None or end_date > self.clock.now().date(),
        }
        return self._mutate(lambda: self.store.add_row(division, "cc", row))

    def add_account(self, division, code, name, *, supplier=False) -> dict:
        # §3.5 / pitfall 17: account codes are 18 characters, left-padded with spaces.
        row = {
            "Code": str(code).rjust(18),
            "Name": name,
            "SearchCode": str(code),
            "IsSupplier": supplier,
            "IsSales": not supplier,
            "Status": "" if supplier else "C",
            "Blocked": False,
            "StartDate": None,
            "EndDate": None,
            "VATNumber": None,
            "ChamberOfCommerce": None,
            "Email": None,
            "City": "Amsterdam",
            "Country": "NL",
        }
        return self._mutate(lambda: self.store.add_row(division, "acc", row))

    # -- read helpers (copies, for tests and the demo) ---------------------------------------
    def division_list(self) -> list[tuple[int, str]]:
        with self.lock:
            return [(c, d["Description"]) for c, d in self.store.divisions.items()]

    def _table(self, division: int, table: str) -> list[dict]:
        with self.lock:
            return [dict(r) for r in self.store.tables.get((division, table), {}).values()]

    def gl_accounts(self, division: int) -> list[dict]:
        return self._table(division, "gl")

    def cost_centers(self, division: int) -> list[dict]:
        return self._table(division, "cc")

    def accounts(self, division: int, *, customers: bool | None = None) -> list[dict]:
        rows = self._table(division, "acc")
        return rows if customers is None else [r for r in rows if r["IsSales"] == customers]

    def update_record(self, division: int, table: str, row_id: str, **changes) -> dict:
        """Change a GL account ("gl"), cost center ("cc") or account ("acc")."""
        return self._mutate(lambda: self.store.update_row(division, table, row_id, changes))

    def delete_record(self, division: int, table: str, row_id: str) -> None:
        self._mutate(lambda: self.store.delete_row(division, table, row_id))

    def _add_doc(self, kind, division, account, lines, when, currency, description, header):
        def run():
            head = exact_docs.header_defaults(
                kind,
                self.store,
                division,
                account,
                when,
                currency,
                {**header, "Description": description},
            )
            return self._doc_view(kind, self.store.add_document(division, kind, head, lines))

        return self._mutate(run)

    def _doc_view(self, kind: str, doc: dict) -> dict:
        lines_name = {
            "si": "SalesInvoiceLines",
            "po": "PurchaseOrderLines",
            "so": "SalesOrderLines",
            "pi": "PurchaseInvoiceLines",
        }[kind]
        view = {k: v for k, v in doc["header"].items() if k != "Timestamp"}
        view[lines_name] = [
            {k: v for k, v in ln.items() if k != "Timestamp"} for ln in doc["lines"]
        ]
        return view

    def _update_doc(self, kind, division, doc_id, changes) -> dict:
        allowed = set(exact_docs.KINDS[kind].header) | {"lines"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"Unknown fields: {sorted(unknown)}")
        return self._mutate(
            lambda: self._doc_view(
                kind, self.store.update_document(division, kind, str(doc_id).lower(), dict(changes))
            )
        )

    def _delete_doc(self, kind, division, doc_id) -> None:
        self._mutate(lambda: self.store.delete_document(division, kind, str(doc_id).lower()))

    def add_sales_invoice(
        self,
        division,
        *,
        account,
        lines,
        invoice_date,
        currency="EUR",
        status=20,
        type=8020,
        description="",
        **header,
    ) -> dict:  # noqa: A002
        return self._add_doc(
            "si",
            division,
            account,
            lines,
            invoice_date,
            currency,
            description,
            {"Status": status, "Type": type, **header},
        )

    def update_sales_invoice(self, division, invoice_id, **changes) -> dict:
        return self._update_doc("si", division, invoice_id, changes)

    def delete_sales_invoice(self, division, invoice_id) -> None:
        self._delete_doc("si", division, invoice_id)

    def add_purchase_order(
        self,
        division,
        *,
        account,
        lines,
        order_date,
        currency="EUR",
        status=10,
        description="",
        **header,
    ) -> dict:
        return self._add_doc(
            "po",
            division,
            account,
            lines,
            order_date,
            currency,
            description,
            {"OrderStatus": status, **header},
        )

    def update_purchase_order(self, division, order_id, **changes) -> dict:
        return self._update_doc("po", division, order_id, changes)

    def delete_purchase_order(self, division, order_id) -> None:
        self._delete_doc("po", division, order_id)

    def add_sales_order(
        self,
        division,
        *,
        account,
        lines,
        order_date,
        currency="EUR",
        status=12,
        description="",
        **header,
    ) -> dict:
        return self._add_doc(
            "so",
            division,
            account,
            lines,
            order_date,
            currency,
            description,
            {"Status": status, **header},
        )

    def update_sales_order(self, division, order_id, **changes) -> dict:
        return self._update_doc("so", division, order_id, changes)

    def delete_sales_order(self, division, order_id) -> None:
        self._delete_doc("so", division, order_id)

    def add_purchase_invoice(
        self,
        division,
        *,
        account,
        lines,
        invoice_date,
        currency="EUR",
        status=20,
        type=8033,
        description="",
        **header,
    ) -> dict:  # noqa: A002
        return self._add_doc(
            "pi",
            division,
            account,
            lines,
            invoice_date,
            currency,
            description,
            {"Status": status, "Type": type, **header},
        )

    def update_purchase_invoice(self, division, invoice_id, **changes) -> dict:
        return self._update_doc("pi", division, invoice_id, changes)

    def delete_purchase_invoice(self, division, invoice_id) -> None:
        self._delete_doc("pi", division, invoice_id)

    def bulk_add_sales_invoices(
        self, division, n: int, *, lines_per_invoice=3, seed=0
    ) -> list[str]:
        return self._mutate(
            lambda: exact_seed.bulk_sales_invoices(
                self.store, division, n, lines_per_invoice=lines_per_invoice, seed=seed
            )
        )

    def seed_company(self, *, invoices_per_division=60, seed=42) -> None:
        exact_seed.seed_company(self, invoices_per_division, seed)  # each add_* delivers events

    # -- mutations and webhook delivery -------------------------------------------------------
    def _mutate(self, action: Callable):
        with self.lock:
            result = action()
            events, self.store.events = self.store.events, []
            deliveries = []
            if self.webhooks_enabled and events:
                deliveries = exact_webhooks.notifications(
                    events,
                    list(self.subscriptions),
                    client_id=self.client_id,
                    base_url=self.public_base_url,
                    now=self.clock.now(),
                    sign=self.sign,
                )
        for delivery in deliveries:  # outside the lock: the receiver may call us back
            try:
                delivery["status"] = self.webhook_transport(delivery["url"], delivery["body"])
            except Exception as exc:  # a failed delivery is recorded, like Exact's log
                delivery["status"], delivery["error"] = 0, type(exc).__name__
            with self.lock:
                self.webhook_deliveries.append(delivery)
        return result
