"""The whole stack against both sandboxes (used by tests/e2e, reliability, security, browser): connections made through the real services, webhooks
delivered by the Exact sandbox into our endpoint, jobs run as the worker runs them.

Both sandboxes run with every limit on (Exact's 60 calls a minute, Monday's complexity budget,
...). A test that needs one off names it (`exact_limits_off={"minutely"}`) and says why. The
limits cost no real time: the product and the sandboxes share one clock (SharedClock), and
every wait of the product moves that clock instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import time_machine
from django.test import Client

from integrations import waits
from integrations.exact import connections, oauth
from integrations.models import ExactDivision, Route, WebhookEvent
from integrations.monday import connections as monday_connections
from integrations.sandbox.clock import SandboxClock
from integrations.sandbox.exact import ExactSandbox
from integrations.sandbox.monday import MondaySandbox
from integrations.sandbox.monday_fixtures import FINANCE_ROLES
from integrations.sandbox.server import combined_app, serve
from integrations.sync import inbox
from mappings.reference import refresh_reference_data
from mappings.services import set_mappings

WEBHOOK_SECRET = "test-webhook-secret"
MONDAY_TOKEN = "e2e-monday-token"


class SharedClock:
    """One clock for the product and the sandboxes, so a limit is waited out in no real time.

    time-machine travels from now with tick=True: timezone.now(), time.time() and
    time.monotonic() follow it in every thread, and so does a SandboxClock(frozen=False) made
    after start(). The product's waits (integrations.waits.sleep) shift it instead of sleeping.
    """

    # A wait still yields this much real time, so threads the product waits for (a concurrent
    # request, a worker) go on as they would; the rest of the wait is the clock's jump.
    REAL_SHARE = 0.01

    def __init__(self) -> None:
        self._travel = time_machine.travel(datetime.now(UTC), tick=True)
        self._lock = threading.Lock()
        self.waits: list[float] = []  # every wait the product asked for, in seconds

    def start(self) -> SharedClock:
        self.traveller = self._travel.start()
        self._real_sleep, waits.sleep = waits.sleep, self.sleep
        return self

    def stop(self) -> None:
        waits.sleep = self._real_sleep
        self._travel.stop()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(seconds)
            self.traveller.shift(max(seconds, 0.0))
        time.sleep(min(max(seconds, 0.0), self.REAL_SHARE))

    def advance(self, seconds: float) -> None:
        """Time passes for everyone: the product, the sandboxes, the database rows' clocks."""
        with self._lock:
            self.traveller.shift(seconds)


class Stack:
    """Both sandboxes served on one port, our connections to them, and a worker to drain jobs.

    `exact_limits_off` / `monday_limits_off`: names of sandbox limits to switch off (see
    exact_limits.LIMITS and monday_complexity.LIMITS); every other limit is on.
    """

    def __init__(self, user, *, exact_limits_off=(), monday_limits_off=()):
        self.shared_clock = SharedClock().start()
        try:
            self._build(user, exact_limits_off, monday_limits_off)
        except BaseException:
            self.shared_clock.stop()
            raise

    def _build(self, user, exact_limits_off, monday_limits_off) -> None:
        # Made inside the travel, it follows the shared clock; its own advance() still moves
        # only the sandboxes (a token aging at Exact while our clock stands still).
        self.clock = SandboxClock(frozen=False)
        self.webhook_client = Client()
        self.exact = ExactSandbox(
            clock=self.clock,
            webhook_secret=WEBHOOK_SECRET,
            limits_off=exact_limits_off,
            webhook_transport=self._deliver,
        )
        self.monday = MondaySandbox(clock=self.clock, limits_off=monday_limits_off)
        self.monday.add_token(MONDAY_TOKEN)
        self.board_id = self.monday.finance_board()
        self.server, self.url = serve(combined_app(self.exact, self.monday))
        self.user = user
        self.deliveries: list[int] = []

    def advance(self, seconds: float) -> None:
        """Time passes on the shared clock (the product and both sandboxes)."""
        self.shared_clock.advance(seconds)

    def _deliver(self, url: str, body: bytes) -> int:
        status = self.webhook_client.post(
            urlsplit(url).path, data=body, content_type="application/json"
        ).status_code
        self.deliveries.append(status)
        return status

    def connect(self, divisions=((101, "Amsterdam"), (102, "Rotterdam"))):
        for code, name in divisions:
            self.exact.add_division(code, name)
        base = f"{self.url}/exact"
        redirect = "https://connector.example.test/integrations/exact/callback/"
        code = self.exact.issue_authorization_code(redirect)
        tokens = oauth.exchange_code(base, code=code, redirect_uri=redirect)
        self.exact_conn = connections.connect_exact(
            user=self.user, base_url=base, region="nl", tokens=tokens
        )
        ExactDivision.objects.filter(connection=self.exact_conn).update(selected=True)
        from integrations.models import MondayConnection

        self.monday_conn = monday_connections.connect_monday_token(
            user=self.user,
            name="Sandbox Monday",
            token=MONDAY_TOKEN,
            connection=MondayConnection(name="Sandbox Monday", api_url=f"{self.url}/monday/v2"),
        )
        monday_connections.refresh_monday_boards(self.monday_conn)
        return self

    def add_reference_data(self, division=101):
        self.exact.add_gl_account(division, "8000", "Revenue")
        self.exact.add_gl_account(division, "8100", "Services")
        self.exact.add_cost_center(division, "KP-100", "Amsterdam office")
        self.exact.add_cost_center(division, "KP-200", "Project Harbour")
        self.customer = self.exact.add_account(division, "C001", "Acme Retail BV")
        self.refresh_reference_data(division)

    def refresh_reference_data(self, division=101):
        refresh_reference_data(ExactDivision.objects.get(connection=self.exact_conn, code=division))

    def gl_id(self, division, code):
        return next(g["ID"] for g in self.exact.gl_accounts(division) if g["Code"] == code)

    def route(self, **kw) -> Route:
        fields = dict(
            name="Sales invoices",
            entity="sales_invoice",
            exact_connection=self.exact_conn,
            monday_connection=self.monday_conn,
            board_id=self.board_id,
            group_id="topics",
            columns=dict(FINANCE_ROLES),
        )
        fields.update(kw)
        route = Route.objects.create(**fields)
        route.divisions.set(self.exact_conn.divisions.all())
        self.route_obj = route
        return route

    def sales_order_route(self, *centers: str) -> Route:
        """A sales-order route with the finance roles but the GL account (orders carry none,
        reference §6.2), each cost center mapped onto itself."""
        roles = dict(FINANCE_ROLES)
        roles.pop("gl_account")
        route = self.route(name="Sales orders", entity="sales_order", columns=roles)
        for center in centers:
            self.map(route, "cost_center", center, center)
        return route

    def map(self, route, kind, code, value, division=101):
        set_mappings(
            route,
            ExactDivision.objects.get(connection=self.exact_conn, code=division),
            kind,
            [code],
            value,
        )

    def invoice(self, division=101, *, gl="8000", cc="KP-100", amounts=(1250.5,), **kw):
        lines = [
            {
                "GLAccount": self.gl_id(division, gl),
                "CostCenter": cc,
                "Description": f"Line {i}",
                "Quantity": 1,
                "AmountFC": amount,
            }
            for i, amount in enumerate(amounts, start=1)
        ]
        from datetime import date

        return self.exact.add_sales_invoice(
            division,
            account=self.customer["ID"],
            lines=lines,
            invoice_date=kw.pop("invoice_date", date(2026, 11, 23)),
            **kw,
        )

    def drain(self, rounds: int = 10) -> list[str]:
        """Run every due inbox job as the worker would; returns the states reached."""
        states = []
        for _ in range(rounds):
            due = list(WebhookEvent.objects.due())
            if not due:
                break
            for event in due:
                states.append(inbox.process_webhook_event(event))
        return states

    def items(self):
        return self.monday.items(self.board_id)

    def close(self):
        try:
            self.server.shutdown()
            self.server.server_close()
        finally:
            self.shared_clock.stop()
