"""The benchmark's world: both sandboxes served on a local port with every limit on, connections
made through the real services, and one route per entity (sales invoices, purchase orders, sales
orders), each on its own finance board, whose GL account and cost-center mappings all exist.

Phases build a world inside a SimulatedClock (clock.py) so waiting out a limit costs no wall
time. Helpers other phases reuse: build_world, add_documents (a realistic spread of lines),
add_webhook_events (the inbox, in process), drain (the worker's job, in process), board_keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings

from integrations.exact import connections, oauth
from integrations.exact.webhooks import WebhookNotification
from integrations.models import Entity, ExactDivision, MondayConnection, Route, WebhookEvent
from integrations.monday import connections as monday_connections
from integrations.sandbox.clock import SandboxClock
from integrations.sandbox.exact import ExactSandbox
from integrations.sandbox.monday import MondaySandbox
from integrations.sandbox.monday_fixtures import FINANCE_ROLES
from integrations.sandbox.server import combined_app, serve
from integrations.sync import inbox
from mappings.reference import refresh_reference_data
from mappings.services import set_mappings

DIVISION = 101
DIVISIONS = (101, 102, 103)
REDIRECT_URI = "https://connector.example.test/integrations/exact/callback/"
GL_CODE, GL_VALUE = "8000", "8000 Revenue"
COST_CENTERS = ("KP-100", "KP-200")
# Every role the finance board offers, so each item carries a realistic set of columns.
COLUMNS = FINANCE_ROLES
# Orders carry no GL account (README "Decisions"): their routes leave that role out.
ORDER_COLUMNS = {k: v for k, v in FINANCE_ROLES.items() if k != "gl_account"}
KIND = {Entity.SALES_INVOICE: "si", Entity.PURCHASE_ORDER: "po", Entity.SALES_ORDER: "so"}
TOPIC = {
    Entity.SALES_INVOICE: "SalesInvoices",
    Entity.PURCHASE_ORDER: "PurchaseOrders",
    Entity.SALES_ORDER: "SalesOrders",
}
EXACT_KEY_TITLE = "Exact key"


@dataclass
class World:
    exact: ExactSandbox
    monday: MondaySandbox
    server: object
    url: str
    exact_conn: object = None
    monday_conn: object = None
    routes: dict[str, Route] = field(default_factory=dict)  # entity -> route
    divisions: tuple[int, ...] = (DIVISION,)

    @property
    def route(self) -> Route:
        """The first route (sales invoices when the world has them)."""
        return next(iter(self.routes.values()))

    @property
    def board_id(self) -> str:
        return self.route.board_id

    @property
    def division(self) -> int:
        return self.divisions[0]

    def set_latency(self, seconds: float) -> None:
        self.exact.latency = seconds
        self.monday.latency = seconds

    def reset_counters(self) -> None:
        self.exact.calls.clear()
        self.monday.requests.clear()

    def items(self, route: Route | None = None) -> list[dict]:
        """Live items on every board of the route (the first route by default)."""
        return [i for b in route_boards(route or self.route) for i in self.monday.items(b)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def build_world(
    *,
    entities: Iterable[str] = (Entity.SALES_INVOICE,),
    divisions: Iterable[int] = (DIVISION,),
    exact_limits_off: Iterable[str] = (),
    monday_limits_off: Iterable[str] = (),
    monday_clock: SandboxClock | None = None,
    board_item_limit: int | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    **route_fields,
) -> World:
    """Serve both sandboxes and connect to them, every sandbox limit on except those a phase
    names (and says why). One route per entity over all `divisions`. `board_item_limit` sets
    both Monday's items per board and the routes' rollover limit. Latency starts at 0."""
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
    if board_item_limit:
        monday.store.max_items_per_board = board_item_limit
        route_fields["board_item_limit"] = board_item_limit
    server, url = serve(combined_app(exact, monday), host=host, port=port)
    world = World(exact=exact, monday=monday, server=server, url=url, divisions=tuple(divisions))
    try:
        _connect(world, list(entities), route_fields)
    except BaseException:
        world.close()
        raise
    return world


def _connect(world: World, entities: list[str], route_fields: dict) -> None:
    tag = uuid.uuid4().hex[:8]
    for code in world.divisions:
        world.exact.add_division(code, f"Benchmark {code} {tag}")
    base = f"{world.url}/exact"
    code = world.exact.issue_authorization_code(REDIRECT_URI)
    tokens = oauth.exchange_code(base, code=code, redirect_uri=REDIRECT_URI)
    world.exact_conn = connections.connect_exact(
        user=None, base_url=base, region="nl", tokens=tokens
    )
    ExactDivision.objects.filter(connection=world.exact_conn).update(selected=True)
    token = f"bench-{tag}"
    world.monday.add_token(token)
    boards = {e: world.monday.finance_board(f"Benchmark {e} {tag}") for e in entities}
    world.monday_conn = monday_connections.connect_monday_token(
        user=None,
        name=f"Benchmark {tag}",
        token=token,
        connection=MondayConnection(name=f"Benchmark {tag}", api_url=f"{world.url}/monday/v2"),
    )
    monday_connections.refresh_monday_boards(world.monday_conn)
    divisions = []
    for code in world.divisions:
        world.exact.add_gl_account(code, GL_CODE, "Revenue")
        for center in COST_CENTERS:
            world.exact.add_cost_center(code, center, f"Cost center {center}")
        world.exact.add_account(code, "C001", "Acme Retail BV")
        world.exact.add_account(code, "S001", "Bouwmaat Groothandel", supplier=True)
        division = ExactDivision.objects.get(connection=world.exact_conn, code=code)
        refresh_reference_data(division)
        divisions.append(division)
    for entity in entities:
        route = Route.objects.create(
            name=f"Benchmark {entity} {tag}",
            entity=entity,
            exact_connection=world.exact_conn,
            monday_connection=world.monday_conn,
            board_id=boards[entity],
            group_id="topics",
            columns=dict(COLUMNS if entity == Entity.SALES_INVOICE else ORDER_COLUMNS),
            **route_fields,
        )
        route.divisions.set(divisions)
        for division in divisions:
            if entity == Entity.SALES_INVOICE:
                set_mappings(route, division, "gl_account", [GL_CODE], GL_VALUE)
            for center in COST_CENTERS:
                set_mappings(route, division, "cost_center", [center], center)
        world.routes[entity] = route


def add_documents(
    world: World,
    n: int,
    *,
    entity: str = Entity.SALES_INVOICE,
    division: int | None = None,
    lines: int | None = None,
    seed: int = 0,
) -> list[str]:
    """n documents of the entity straight into the Exact sandbox's store: `lines` lines each,
    or None for the realistic spread (1 to 10, about 3 on average, seeded). Lower-case keys."""
    ids = world.exact.bulk_add_documents(
        division or world.division, KIND[entity], n, lines=lines, seed=seed
    )
    return [str(k).lower() for k in ids]


def add_invoices(world: World, n: int, *, seed: int = 0, lines: int | None = 3) -> list[str]:
    """n sales invoices (3 lines each unless told), straight into the Exact sandbox's store."""
    return add_documents(world, n, lines=lines, seed=seed)


def feed_rows(world: World, entity: str, keys: Iterable[str], division: int | None = None) -> dict:
    """Header rows and line rows the documents of these keys put on Exact's sync feeds."""
    store, kind = world.exact.store, KIND[entity]
    division = division or world.division
    lines = 0
    keys = list(keys)
    for key in keys:
        lines += len(store.get_document(division, kind, key)["lines"])
    return {"headers": len(keys), "lines": lines}


def add_webhook_events(
    world: World, keys: Iterable[str], *, entity: str = Entity.SALES_INVOICE, division=None
) -> int:
    """One verified notification per key into the inbox, as the webhook view stores them (the
    HTTP layer is the webhook phases' concern). Returns how many were stored."""
    stored = 0
    for key in keys:
        notification = WebhookNotification(
            topic=TOPIC[entity],
            action="create",
            division=division or world.division,
            key=key,
            client_id="",
            event_created_on=datetime.now(UTC).isoformat(timespec="milliseconds"),
        )
        _, created = inbox.receive_webhook_event(notification, raw_body="{}", client_id="")
        stored += created
    return stored


def drain(rounds: int = 50) -> dict[str, int]:
    """Run every due inbox job as a worker would, until none is due; the jobs' end states."""
    states: dict[str, int] = {}
    for _ in range(rounds):
        due = list(WebhookEvent.objects.due().order_by("pk"))
        if not due:
            break
        for event in due:
            state = inbox.process_webhook_event(event)
            states[state] = states.get(state, 0) + 1
    return states


def route_boards(route: Route) -> list[str]:
    """Every board the route wrote to: the first and each one it rolled over to."""
    route.refresh_from_db()
    boards = list(route.boards.order_by("number").values_list("board_id", flat=True))
    return boards or [route.board_id]


def board_keys(world: World, route: Route) -> list[str]:
    """The Exact key of every live item on the route's boards (a copied board has new column
    ids, so the column is found by its title). Duplicates stay in the list."""
    keys = []
    for board in route_boards(route):
        column = next(
            c["id"] for c in world.monday.board_columns(board) if c["title"] == EXACT_KEY_TITLE
        )
        keys += [str(i["texts"].get(column, "")).lower() for i in world.monday.items(board)]
    return keys
