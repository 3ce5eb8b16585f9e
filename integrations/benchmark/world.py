"""The benchmark's world: both sandboxes served on a local port, connections made through the
real services, a sales-invoice route whose GL account and cost-center mappings all exist."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from integrations.exact import connections, oauth
from integrations.models import ExactDivision, MondayConnection, Route
from integrations.monday import connections as monday_connections
from integrations.sandbox.clock import SandboxClock
from integrations.sandbox.exact import ExactSandbox
from integrations.sandbox.monday import MondaySandbox
from integrations.sandbox.monday_fixtures import FINANCE_ROLES
from integrations.sandbox.server import combined_app, serve
from mappings.reference import refresh_reference_data
from mappings.services import set_mappings

DIVISION = 101
REDIRECT_URI = "https://connector.example.test/integrations/exact/callback/"
GL_CODE, GL_VALUE = "8000", "8000 Revenue"
COST_CENTERS = ("KP-100", "KP-200")
# Every role the finance board offers, so each item carries a realistic set of columns.
COLUMNS = FINANCE_ROLES


@dataclass
class World:
    exact: ExactSandbox
    monday: MondaySandbox
    server: object
    url: str
    exact_conn: object = None
    monday_conn: object = None
    route: Route | None = None
    board_id: str = ""
    division: int = DIVISION

    def set_latency(self, seconds: float) -> None:
        self.exact.latency = seconds
        self.monday.latency = seconds

    def reset_counters(self) -> None:
        self.exact.calls.clear()
        self.monday.requests.clear()

    def items(self) -> list[dict]:
        return self.monday.items(self.board_id)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def build_world(
    *,
    exact_limits_off: Iterable[str] = (),
    monday_limits_off: Iterable[str] = (),
    monday_clock: SandboxClock | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
) -> World:
    """Serve both sandboxes and connect to them, every sandbox limit on except those a phase
    names (each phase says why). Latency starts at 0: set it after."""
    exact = ExactSandbox(
        clock=SandboxClock(frozen=False),
        client_id=settings.EXACT_CLIENT_ID or "sandbox-client",
        client_secret=settings.EXACT_CLIENT_SECRET or "sandbox-secret",
        webhook_secret=settings.EXACT_WEBHOOK_SECRET or "sandbox-webhook-secret",
        limits_off=exact_limits_off,
    )
    monday = MondaySandbox(
        clock=monday_clock or SandboxClock(frozen=False), limits_off=monday_limits_off
    )
    server, url = serve(combined_app(exact, monday), host=host, port=port)
    world = World(exact=exact, monday=monday, server=server, url=url)
    try:
        _connect(world)
    except BaseException:
        world.close()
        raise
    return world


def _connect(world: World) -> None:
    tag = uuid.uuid4().hex[:8]
    world.exact.add_division(DIVISION, f"Benchmark {tag}")
    base = f"{world.url}/exact"
    code = world.exact.issue_authorization_code(REDIRECT_URI)
    tokens = oauth.exchange_code(base, code=code, redirect_uri=REDIRECT_URI)
    world.exact_conn = connections.connect_exact(
        user=None, base_url=base, region="nl", tokens=tokens
    )
    ExactDivision.objects.filter(connection=world.exact_conn).update(selected=True)
    token = f"bench-{tag}"
    world.monday.add_token(token)
    world.board_id = world.monday.finance_board(f"Benchmark {tag}")
    world.monday_conn = monday_connections.connect_monday_token(
        user=None,
        name=f"Benchmark {tag}",
        token=token,
        connection=MondayConnection(name=f"Benchmark {tag}", api_url=f"{world.url}/monday/v2"),
    )
    monday_connections.refresh_monday_boards(world.monday_conn)
    world.exact.add_gl_account(DIVISION, GL_CODE, "Revenue")
    for code in COST_CENTERS:
        world.exact.add_cost_center(DIVISION, code, f"Cost center {code}")
    world.exact.add_account(DIVISION, "C001", "Acme Retail BV")
    division = ExactDivision.objects.get(connection=world.exact_conn, code=DIVISION)
    refresh_reference_data(division)
    route = Route.objects.create(
        name=f"Benchmark {tag}",
        entity="sales_invoice",
        exact_connection=world.exact_conn,
        monday_connection=world.monday_conn,
        board_id=world.board_id,
        group_id="topics",
        columns=dict(COLUMNS),
    )
    route.divisions.set([division])
    set_mappings(route, division, "gl_account", [GL_CODE], GL_VALUE)
    for code in COST_CENTERS:
        set_mappings(route, division, "cost_center", [code], code)
    world.route = route


def add_invoices(world: World, n: int, *, seed: int = 0) -> list[str]:
    """n sales invoices of 3 lines each, straight into the Exact sandbox's store."""
    return world.exact.bulk_add_sales_invoices(world.division, n, lines_per_invoice=3, seed=seed)
