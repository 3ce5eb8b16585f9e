"""Exact Online end to end: the production client and services against the strict sandbox.

The sandbox runs on its own clock; Django's clock (time-machine) moves in step with it, so the
token rules (600 s life, no refresh before 570 s, rotation, 30 idle days) are the sandbox's.
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine
from django.db import close_old_connections, connection
from django.test import override_settings
from django.urls import reverse

from audit.models import AuditEvent
from integrations.errors import AccessRefused, ReconnectRequired, RemoteUnavailable
from integrations.exact.connections import for_connection
from integrations.models import ConnectionStatus, Entity, ExactConnection
from integrations.sandbox.clock import SandboxClock
from integrations.sandbox.exact import ExactSandbox
from integrations.sandbox.server import combined_app, serve

START = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)
DIVISIONS = {101: "Acme NL", 102: "Acme BE", 103: "Acme UK"}
SI = "salesinvoice/SalesInvoices"
# salesinvoice/SalesInvoices refuses an unfiltered GET (mandatory filtering, reference §3.4);
# these tests read it as a plain regular endpoint, so they filter on a field every row passes.
EVERY_INVOICE = {"$select": "InvoiceID", "$filter": "Modified ge datetime'2000-01-01T00:00:00'"}


def _not_found(environ, start_response):
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"Not Found"]


class World:
    """The sandbox, its server, and one clock for both sides."""

    def __init__(self, traveller):
        self.clock = SandboxClock(START)
        self.sandbox = ExactSandbox(clock=self.clock)
        for code, name in DIVISIONS.items():
            self.sandbox.add_division(code, name)
        self.server, self.url = serve(combined_app(self.sandbox, _not_found))
        self.traveller = traveller
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.clock.advance(seconds)
            self.traveller.shift(seconds)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def client(self, conn):
        client = for_connection(conn)
        client.sleep = self.sleep
        return client

    def refreshes(self) -> list[dict]:
        return [r for r in self.sandbox.token_requests if r["grant_type"] == "refresh_token"]

    def calls(self, needle: str) -> list[tuple]:
        return [c for c in self.sandbox.calls if needle in c[1]]


@pytest.fixture
def world():
    with time_machine.travel(START, tick=False) as traveller:
        w = World(traveller)
        with override_settings(
            SANDBOX_URL=w.url,
            EXACT_CLIENT_ID="sandbox-client",
            EXACT_CLIENT_SECRET="sandbox-secret",
        ):
            yield w
        w.server.shutdown()
        w.server.server_close()


def connect(world: World, admin_client, *, pick=(101, 102), reauthorize=None) -> ExactConnection:
    """Connect as an admin does: Connect button → sandbox consent → callback → tick divisions."""
    query = {"connection": reauthorize.pk} if reauthorize else {"region": "nl"}
    start = admin_client.get(reverse("exact-oauth-start"), query)
    authorize = start["Location"]
    assert authorize.startswith(f"{world.url}/exact/api/oauth2/auth?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    consent = requests.post(
        f"{world.url}/exact/api/oauth2/auth",
        data={
            **params,
            "decision": "approve",
            "division": [str(c) for c, _ in world.sandbox.division_list()],
        },
        allow_redirects=False,
        timeout=10,
    )
    back = urlsplit(consent.headers["Location"])
    assert back.path == "/integrations/exact/callback/"
    done = admin_client.get(back.path, dict(parse_qs(back.query)))
    conn = ExactConnection.objects.get()
    assert done["Location"] == reverse("admin:integrations_exactconnection_change", args=[conn.pk])
    assert conn.status == ConnectionStatus.CONNECTED
    offered = sorted(code for code, _ in world.sandbox.division_list())
    assert sorted(conn.divisions.values_list("code", flat=True)) == offered
    divisions = list(conn.divisions.order_by("code"))
    data = {
        "name": conn.name,
        "divisions-TOTAL_FORMS": str(len(divisions)),
        "divisions-INITIAL_FORMS": str(len(divisions)),
        "divisions-MIN_NUM_FORMS": "0",
        "divisions-MAX_NUM_FORMS": "1000",
    }
    for i, division in enumerate(divisions):
        data[f"divisions-{i}-id"] = str(division.pk)
        data[f"divisions-{i}-connection"] = str(conn.pk)
        if division.code in pick:
            data[f"divisions-{i}-selected"] = "on"
    saved = admin_client.post(
        reverse("admin:integrations_exactconnection_change", args=[conn.pk]), data
    )
    assert saved.status_code == 302
    assert sorted(conn.divisions.filter(selected=True).values_list("code", flat=True)) == list(pick)
    return ExactConnection.objects.get(pk=conn.pk)


def read_invoice_page(world: World, conn, division=101) -> list[dict]:
    pages = world.client(conn).iter_pages(SI, division=division, params=EVERY_INVOICE)
    return next(pages)


# --- token lifecycle ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_after_11_minutes_one_refresh_happens_and_the_rotated_token_is_stored(world, admin_client):
    world.sandbox.bulk_add_sales_invoices(101, 5)
    conn = connect(world, admin_client)
    world.advance(11 * 60)
    assert len(read_invoice_page(world, conn)) == 5
    assert [r["outcome"] for r in world.refreshes()] == ["refreshed"]
    stored = ExactConnection.objects.get(pk=conn.pk)
    [chain] = [c for c in world.sandbox.auth.chains.values() if c.alive]
    assert stored.refresh_token == chain.refresh_token
    assert stored.access_token == chain.access_token
    assert AuditEvent.objects.filter(action="exact.token_refreshed").count() == 1
    # The next call within the new token's life makes no refresh.
    world.advance(60)
    read_invoice_page(world, ExactConnection.objects.get(pk=conn.pk))
    assert len(world.refreshes()) == 1


@pytest.mark.django_db
def test_a_call_at_5_minutes_makes_no_refresh(world, admin_client):
    conn = connect(world, admin_client)
    world.advance(5 * 60)
    read_invoice_page(world, conn)
    assert world.refreshes() == []


@pytest.mark.django_db
def test_a_reused_refresh_token_puts_the_connection_in_needs_reauth(world, admin_client):
    conn = connect(world, admin_client)
    world.advance(11 * 60)
    # Someone else spends the refresh token behind our back: ours is now an old one.
    stolen = requests.post(
        f"{world.url}/exact/api/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": conn.refresh_token,
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
        },
        timeout=10,
    )
    assert stolen.status_code == 200
    world.advance(11 * 60)
    with pytest.raises(ReconnectRequired):
        read_invoice_page(world, conn)
    assert world.refreshes()[-1]["outcome"] == "old_refresh_token"
    stored = ExactConnection.objects.get(pk=conn.pk)
    assert stored.status == ConnectionStatus.NEEDS_REAUTH
    assert AuditEvent.objects.filter(action="exact.needs_reauth", object_id=str(conn.pk)).exists()
    page = admin_client.get(
        reverse("admin:integrations_exactconnection_change", args=[conn.pk])
    ).content.decode()
    assert "needs re-authorization" in page and "Re-authorize" in page
    assert "Old refresh token used." in page and "Traceback" not in page


@pytest.mark.django_db
def test_an_expired_refresh_token_puts_the_connection_in_needs_reauth(
    world, admin_client, staff_user
):
    conn = connect(world, admin_client)
    world.advance(31 * 24 * 3600)
    with pytest.raises(ReconnectRequired):
        read_invoice_page(world, conn)
    assert world.refreshes()[-1]["outcome"] == "refresh_token_expired"
    assert ExactConnection.objects.get(pk=conn.pk).status == ConnectionStatus.NEEDS_REAUTH
    # Re-authorizing (after logging in again: the session is a month old) brings it back.
    admin_client.force_login(staff_user)
    connect(world, admin_client, reauthorize=conn)
    read_invoice_page(world, ExactConnection.objects.get(pk=conn.pk))
    assert ExactConnection.objects.get(pk=conn.pk).status == ConnectionStatus.CONNECTED


def spend_refresh_token(world: World, conn) -> None:
    """Someone else refreshes with our refresh token: Exact drops our access token with it."""
    stolen = requests.post(
        f"{world.url}/exact/api/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": conn.refresh_token,
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
        },
        timeout=10,
    )
    assert stolen.status_code == 200


@pytest.mark.django_db
def test_a_401_on_a_token_young_by_our_clock_but_expired_by_exacts_refreshes_once(
    world, admin_client
):
    world.sandbox.bulk_add_sales_invoices(101, 5)
    conn = connect(world, admin_client)
    world.clock.advance(11 * 60)  # Exact's clock only: ours still calls the token 0 s old
    assert len(read_invoice_page(world, conn)) == 5
    assert [r["outcome"] for r in world.refreshes()] == ["refreshed"]
    assert [c[2] for c in world.calls(SI)] == [401, 200]
    stored = ExactConnection.objects.get(pk=conn.pk)
    assert stored.status == ConnectionStatus.CONNECTED
    [chain] = [c for c in world.sandbox.auth.chains.values() if c.alive]
    assert (stored.access_token, stored.refresh_token) == (chain.access_token, chain.refresh_token)
    assert not AuditEvent.objects.filter(action="exact.needs_reauth").exists()
    # The rotated pair was stored before use: the next call needs no refresh and no 401.
    read_invoice_page(world, ExactConnection.objects.get(pk=conn.pk))
    assert len(world.refreshes()) == 1
    assert [c[2] for c in world.calls(SI)] == [401, 200, 200]


@pytest.mark.django_db
def test_a_401_then_old_refresh_token_used_sends_the_admin_to_reauthorize(world, admin_client):
    conn = connect(world, admin_client)
    world.clock.advance(10 * 60)  # Exact's clock only: ours still calls the token young
    spend_refresh_token(world, conn)
    with pytest.raises(ReconnectRequired):
        read_invoice_page(world, conn)
    assert [r["outcome"] for r in world.refreshes()] == ["refreshed", "old_refresh_token"]
    stored = ExactConnection.objects.get(pk=conn.pk)
    assert stored.status == ConnectionStatus.NEEDS_REAUTH
    assert "Old refresh token used." in stored.last_error
    page = admin_client.get(
        reverse("admin:integrations_exactconnection_change", args=[conn.pk])
    ).content.decode()
    assert "needs re-authorization" in page and "Re-authorize" in page
    assert "Old refresh token used." in page


@pytest.mark.django_db
def test_a_401_while_exact_calls_the_token_young_is_surfaced_without_reauthorization(
    world, admin_client
):
    world.sandbox.bulk_add_sales_invoices(101, 3)
    conn = connect(world, admin_client)
    world.advance(60)
    world.sandbox.revoke_access_tokens()  # 401 on data calls, yet a refresh is "too early"
    with pytest.raises(AccessRefused) as caught:
        read_invoice_page(world, conn)
    assert caught.value.message == (
        f"Exact Online refused the call to {SI} (division 101) with HTTP 401 although "
        "the access token is still valid."
    )
    assert "consent" in caught.value.hint and "scopes" in caught.value.hint
    assert [r["outcome"] for r in world.refreshes()] == ["too_early"]  # one attempt, no loop
    assert [c[2] for c in world.calls(SI)] == [401]  # no retry with the same token
    assert ExactConnection.objects.get(pk=conn.pk).status == ConnectionStatus.CONNECTED
    assert not AuditEvent.objects.filter(action="exact.needs_reauth").exists()
    # The admin's Test connection says so in words.
    answer = admin_client.post(
        reverse("admin:integrations_exactconnection_test", args=[conn.pk]), follow=True
    )
    text = answer.content.decode()
    assert "although the access token is still valid" in text and "Traceback" not in text
    assert ExactConnection.objects.get(pk=conn.pk).status == ConnectionStatus.CONNECTED


# --- paging, sync, limits ----------------------------------------------------------------------


@pytest.mark.django_db
def test_paging_over_2500_invoices_returns_each_once(world, admin_client):
    created = world.sandbox.bulk_add_sales_invoices(101, 2500)
    conn = connect(world, admin_client)
    client = world.client(conn)
    seen = [
        row["InvoiceID"]
        for page in client.iter_pages(SI, division=101, params=EVERY_INVOICE)
        for row in page
    ]
    assert len(seen) == 2500 and len(set(seen)) == 2500
    assert {s.lower() for s in seen} == {c.lower() for c in created}
    assert len(world.calls(f"/101/{SI}")) == math.ceil(2500 / 60)


@pytest.mark.django_db
def test_the_sync_feed_groups_lines_in_one_call_per_1000_rows(world, admin_client):
    world.sandbox.bulk_add_sales_invoices(101, 2500, lines_per_invoice=3)
    conn = connect(world, admin_client)
    documents, rows = {}, 0
    for page in world.client(conn).iter_changes(Entity.SALES_INVOICE, 101, since=1):
        rows += page.rows
        for doc in page.documents:
            assert doc.key not in documents
            documents[doc.key] = doc
    assert len(documents) == 2500
    assert all(len(doc.lines) == 3 for doc in documents.values())
    assert len(world.calls("/101/sync/SalesInvoice/SalesInvoices")) == math.ceil(rows / 1000)
    assert rows >= 2500 * 3


@pytest.mark.django_db
def test_a_429_is_waited_out(world, admin_client):
    world.sandbox.bulk_add_sales_invoices(101, 3)
    conn = connect(world, admin_client)
    world.sandbox.fail_next(SI, 429)
    assert len(read_invoice_page(world, conn)) == 3
    assert len(world.sleeps) == 1 and 1 <= world.sleeps[0] <= 61
    assert [c[2] for c in world.calls(SI)] == [429, 200]


@pytest.mark.django_db
def test_a_500_is_retried_then_surfaced_clearly(world, admin_client):
    world.sandbox.bulk_add_sales_invoices(101, 3)
    conn = connect(world, admin_client)
    world.sandbox.fail_next(SI, 500)
    assert len(read_invoice_page(world, conn)) == 3  # one retry was enough
    world.sandbox.fail_next(SI, 500, count=10)
    with pytest.raises(RemoteUnavailable) as caught:
        read_invoice_page(world, conn)
    assert caught.value.message == (
        f"Exact Online answered HTTP 500 on {SI}: An error has occurred."
    )
    assert [c[2] for c in world.calls(SI)] == [500, 200, 500, 500, 500, 500]


@pytest.mark.django_db
def test_document_with_lines_and_reference_data_from_the_sandbox(world, admin_client):
    world.sandbox.bulk_add_sales_invoices(101, 3)
    world.sandbox.add_gl_account(101, "4000", "Kosten")
    world.sandbox.add_cost_center(101, "300", "Verkoop")
    conn = connect(world, admin_client)
    client = world.client(conn)
    [first, *_] = next(client.iter_pages(SI, division=101, params=EVERY_INVOICE))
    doc = client.get_document(Entity.SALES_INVOICE, 101, first["InvoiceID"])
    assert doc is not None and doc.lines and doc.currency
    from mappings.models import GLAccount
    from mappings.reference import refresh_reference_data

    counts = refresh_reference_data(conn.divisions.get(code=101), client=client)
    assert counts["gl_accounts"] == len(world.sandbox.gl_accounts(101))
    assert GLAccount.objects.filter(division__code=101).count() == counts["gl_accounts"] == 2
    assert counts["cost_centers"] == len(world.sandbox.cost_centers(101)) == 2
    assert {line.cost_center for line in doc.lines} <= {"BULK", "300"}


@pytest.mark.django_db
def test_connect_then_refresh_reference_data_with_the_admin_buttons(world, admin_client):
    # The first-customer path against a sandbox that enforces Hid, mandatory filtering and
    # the URL limit: Connect Exact Online, tick divisions, Refresh GL accounts and cost centers.
    for code in (101, 102):
        world.sandbox.add_gl_account(code, "8000", "Omzet")
        world.sandbox.add_cost_center(code, "KP-100", "Kantoor")
    conn = connect(world, admin_client)
    url = reverse("admin:integrations_exactconnection_refresh_reference", args=[conn.pk])
    page = admin_client.post(url, follow=True).content.decode()
    assert "Reference data refreshed. 101: 1 GL account, 1 cost center; 102: 1 GL account" in page
    assert "Could not read" not in page
    from mappings.models import CostCenter, GLAccount

    assert GLAccount.objects.filter(division__connection=conn).count() == 2
    assert CostCenter.objects.filter(division__connection=conn).count() == 2
    assert world.calls("/financial/GLAccounts") == []  # read through the sync feed
    assert all(status == 200 for _, _, status in world.sandbox.calls)


@pytest.mark.django_db
def test_a_page_of_purchase_invoices_reads_its_lines_in_one_call_under_the_url_limit(
    world, admin_client
):
    # The sandbox refuses URLs over 6,000 characters (reference §3.9); the key batch is as
    # large as the encoded URL allows, so a page of 60 invoices needs one lines call.
    sandbox = world.sandbox
    supplier = sandbox.add_account(101, "S001", "Leverancier", supplier=True)
    for _ in range(60):
        sandbox.add_purchase_invoice(
            101,
            account=supplier["ID"],
            invoice_date=datetime(2026, 11, 2).date(),
            lines=[{"Description": "Inkoop", "Amount": 10.0}],
        )
    conn = connect(world, admin_client)
    client = world.client(conn)
    docs = [
        d for p in client.iter_changes(Entity.PURCHASE_INVOICE, 101, since=0) for d in p.documents
    ]
    assert len(docs) == 60 and all(len(d.lines) == 1 for d in docs)
    assert [c[2] for c in world.calls("/101/purchase/PurchaseInvoiceLines")] == [200]


# --- PostgreSQL: concurrency -------------------------------------------------------------------


def _in_threads(n: int, work) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        close_old_connections()
        try:
            barrier.wait(timeout=10)
            results[i] = work(i)
        except Exception as exc:  # reported and asserted below
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_workers_with_an_expired_token_refresh_exactly_once(world, admin_client):
    world.sandbox.bulk_add_sales_invoices(101, 4)
    conn = connect(world, admin_client)
    world.advance(11 * 60)

    def work(i):
        mine = ExactConnection.objects.get(pk=conn.pk)  # each worker its own copy
        return len(read_invoice_page(world, mine))

    results = _in_threads(8, work)
    assert results == [4] * 8
    assert [r["outcome"] for r in world.refreshes()] == ["refreshed"]
    assert ExactConnection.objects.get(pk=conn.pk).status == ConnectionStatus.CONNECTED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_workers_with_a_401_on_a_token_young_by_our_clock_refresh_exactly_once(
    world, admin_client
):
    world.sandbox.bulk_add_sales_invoices(101, 4)
    world.sandbox.bulk_add_sales_invoices(102, 4)
    conn = connect(world, admin_client)
    world.clock.advance(11 * 60)  # Exact's clock only: every worker sends the stored token

    def work(i):
        mine = ExactConnection.objects.get(pk=conn.pk)  # each worker its own copy
        # Two divisions, four workers each: eight 401s on one endpoint of one division would
        # spend the error stop (8 of Exact's 10 an hour, §4) and park the retries for an hour.
        return len(read_invoice_page(world, mine, division=(101, 102)[i % 2]))

    results = _in_threads(8, work)
    assert results == [4] * 8
    assert [r["outcome"] for r in world.refreshes()] == ["refreshed"]
    statuses = [c[2] for c in world.calls(SI)]
    assert 401 in statuses and statuses.count(200) == 8  # one retry per 401, then done
    assert len(statuses) == 8 + statuses.count(401)
    stored = ExactConnection.objects.get(pk=conn.pk)
    assert stored.status == ConnectionStatus.CONNECTED
    [chain] = [c for c in world.sandbox.auth.chains.values() if c.alive]
    assert stored.refresh_token == chain.refresh_token


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_sharing_a_company_budget_never_exceed_the_minutely_limit(world, admin_client):
    world.sandbox.bulk_add_sales_invoices(101, 2)
    conn = connect(world, admin_client)

    def work(i):
        mine = ExactConnection.objects.get(pk=conn.pk)
        client = world.client(mine)
        for _ in range(50):
            client.get(SI, division=101, params=EVERY_INVOICE)
        return "ok"

    assert _in_threads(2, work) == ["ok", "ok"]
    statuses = [c[2] for c in world.calls(f"/101/{SI}")]
    assert len(statuses) == 100 and 429 not in statuses
    assert world.sleeps  # they slowed down instead of hitting the limit


# --- every entity the sync needs, as the strict sandbox serves it ------------------------------

SEEDED = 3101001  # seed_company's first division: invoices, orders, purchase invoices, ...
KIND = {
    Entity.SALES_INVOICE: "si",
    Entity.PURCHASE_ORDER: "po",
    Entity.SALES_ORDER: "so",
    Entity.PURCHASE_INVOICE: "pi",
}


@pytest.fixture
def seeded(world, admin_client):
    world.sandbox.seed_company(invoices_per_division=12)
    conn = connect(world, admin_client, pick=(SEEDED,))
    return world, world.client(conn)


@pytest.mark.django_db
@pytest.mark.parametrize("entity", list(KIND))
def test_every_entity_reads_with_its_lines_from_changes_and_by_key(seeded, entity):
    world, client = seeded
    stored = world.sandbox.store.docs[(SEEDED, KIND[entity])]
    documents = {
        d.key: d for page in client.iter_changes(entity, SEEDED, since=1) for d in page.documents
    }
    assert {str(k) for k in documents} == set(stored)
    key = next(iter(documents))
    doc = client.get_document(entity, SEEDED, key)
    expected = stored[str(key)]
    assert len(doc.lines) == len(expected["lines"]) > 0
    assert doc.number and doc.currency and doc.document_date
    assert isinstance(doc.amount_fc, Decimal) and doc.amount_fc != 0
    assert all(isinstance(line.amount_dc, Decimal) for line in doc.lines)
    if entity != Entity.SALES_ORDER:
        assert [ln.id for ln in documents[key].lines] == [ln.id for ln in doc.lines]


@pytest.mark.django_db
def test_credit_notes_from_the_sandbox_are_negative(seeded):
    world, client = seeded
    credits = [
        d
        for page in client.iter_changes(Entity.SALES_INVOICE, SEEDED, since=1)
        for d in page.documents
        if d.is_credit_note
    ]
    assert credits
    assert all(d.amount_fc < 0 and all(ln.amount_fc <= 0 for ln in d.lines) for d in credits)


@pytest.mark.django_db
def test_changes_resume_from_the_cursor_and_deletions_are_read(seeded):
    world, client = seeded
    pages = list(client.iter_changes(Entity.SALES_INVOICE, SEEDED, since=1))
    cursor = pages[-1].max_timestamp
    assert list(client.iter_changes(Entity.SALES_INVOICE, SEEDED, since=cursor)) == []
    first = next(iter(world.sandbox.store.docs[(SEEDED, "si")]))
    world.sandbox.update_sales_invoice(SEEDED, first, Description="Changed")
    [changed] = [
        d
        for p in client.iter_changes(Entity.SALES_INVOICE, SEEDED, since=cursor)
        for d in p.documents
    ]
    assert str(changed.key) == first and changed.description == "Changed"
    world.sandbox.delete_sales_invoice(SEEDED, first)
    deleted = list(client.iter_deleted(SEEDED, since=1, entity=Entity.SALES_INVOICE))
    assert [str(k) for p in deleted for k in p.keys] == [first]
    assert client.get_document(Entity.SALES_INVOICE, SEEDED, changed.key) is None


@pytest.mark.django_db
def test_sync_timestamp_for_a_start_date_and_webhook_subscriptions(seeded):
    world, client = seeded
    start = world.clock.now().date().replace(day=1)
    stamp = client.sync_timestamp_for(Entity.SALES_INVOICE, SEEDED, start)
    assert isinstance(stamp, int) and stamp > 0
    later = [
        d
        for p in client.iter_changes(Entity.SALES_INVOICE, SEEDED, since=stamp - 1)
        for d in p.documents
    ]
    assert later and all(d.modified.date() >= start for d in later)
    delivered = []
    world.sandbox.webhook_transport = lambda url, body: delivered.append(url) or 200
    created = client.create_webhook_subscription(
        SEEDED, topic="SalesInvoices", callback_url="https://connector.example.test/webhooks/exact/"
    )
    listed = client.list_webhook_subscriptions(SEEDED)
    assert [s["ID"] for s in listed] == [created["ID"]]
    assert delivered == ["https://connector.example.test/webhooks/exact/"]  # validation ping
    client.delete_webhook_subscription(SEEDED, created["ID"])
    assert client.list_webhook_subscriptions(SEEDED) == []


@pytest.mark.django_db
def test_me_and_divisions_and_reference_data_of_a_seeded_company(seeded):
    world, client = seeded
    me = client.me()
    divisions = client.list_divisions(me.current_division)
    assert me.current_division in {d.code for d in divisions}
    assert all(d.hid.isdigit() for d in divisions)  # `Hid`, not `HID` (reference §2.2)
    gl = client.list_gl_accounts(SEEDED)
    assert {g.code for g in gl} >= {"8000", "8090"}
    assert next(g for g in gl if g.code == "8090").is_blocked
    centers = client.list_cost_centers(SEEDED)
    assert any(c.end_date for c in centers)


@pytest.mark.django_db
def test_a_division_move_is_detected_so_the_division_can_be_resynchronised(world, admin_client):
    from integrations.exact.connections import check_division_moves

    world.sandbox.bulk_add_sales_invoices(101, 3)
    conn = connect(world, admin_client)
    assert check_division_moves(conn) == []
    world.advance(3600)
    with world.sandbox.lock:
        world.sandbox.store.move_division(101)
    assert check_division_moves(conn) == [101]
    assert conn.divisions.get(code=101).division_move_date is not None
    assert AuditEvent.objects.filter(action="exact.division_moved", division=101).count() == 1
    assert check_division_moves(conn) == []  # recorded once
    # From the start again, every invoice is still there exactly once.
    docs = [
        d
        for p in world.client(conn).iter_changes(Entity.SALES_INVOICE, 101, since=1)
        for d in p.documents
    ]
    assert len({d.key for d in docs}) == len(docs) == 3
