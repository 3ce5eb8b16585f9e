"""Monday.com end to end: the production monday, upsert and discovery against the strict sandbox."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from audit.models import AuditEvent
from integrations.models import ColumnRole, ConnectionStatus, MondayBoard
from integrations.monday import connections as monday_connections
from integrations.monday.batching import MAX_QUERY_COMPLEXITY
from integrations.monday.boards import compatible_columns, list_boards, refresh_boards
from integrations.monday.client import MondayClient
from integrations.monday.columns import encode_values
from integrations.monday.errors import MondayAuthError, MondayColumnError
from integrations.monday.items import (
    ItemWrite,
    SubitemWrite,
    idempotency_key_for,
    read_board_items,
    sync_subitems,
    upsert_items,
)
from integrations.sandbox.clock import SandboxClock
from integrations.sandbox.monday import MondaySandbox
from integrations.sandbox.server import serve
from tests import factories

TOKEN = "sandbox-monday-token-QQQQQQQQQQQQ"
AMS = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def clock():
    return SandboxClock()


@pytest.fixture
def sandbox(clock):
    app = MondaySandbox(clock=clock)
    app.add_token(TOKEN)
    app.timeout_hang_seconds = 0.05
    return app


@pytest.fixture
def api_url(sandbox):
    server, base_url = serve(sandbox)
    yield f"{base_url}/v2"
    server.shutdown()


@pytest.fixture
def board_id(sandbox):
    return sandbox.finance_board()


@pytest.fixture
def monday(api_url, clock):
    # Waiting advances the sandbox's clock: rate limits are waited out without real sleeps.
    return MondayClient(token=TOKEN, api_url=api_url, sleep=clock.advance)


def columns_of(monday, board_id):
    (board,) = [b for b in list_boards(monday) if b.id == board_id]
    return {c.id: c for c in board.columns}


def invoice_values(i: int) -> dict:
    """What the sync pipeline hands over: Python values per column id."""
    return {
        "exact_key": f"0f0e{i:04d}-aaaa-bbbb-cccc-{i:012d}",
        "exact_number": f"2026{i:05d}",
        "account_name": f'Bakkerij "De Één" {i}',
        # Many decimals and credit notes (negative) every seventh invoice.
        "amount": Decimal(f"{'-' if i % 7 == 0 else ''}{i * 13}.{i:04d}5"),
        "invoice_date": datetime(2026, 3, 29, 0, 30, tzinfo=AMS).date()
        if i % 2
        else date(2026, 12, 31),
        "due_date": datetime(
            2026, 1, 1, 0, 15, tzinfo=AMS
        ),  # date with time: 23:15 UTC the day before
        "status": "credit note" if i % 7 == 0 else "Open",
        "cost_center": "KP-100" if i % 2 else "KP-200",
        "exact_link": (
            f"https://start.exactonline.nl/docs/SalesInvoice.aspx?ID={i}",
            f"Invoice {i}",
        ),
        "description": f'Line one "quoted"\nLine two ✓ {i}',
        "contact_email": f"ap{i}@example.test",
        "approved": i % 3 == 0,
    }


def test_500_items_go_out_in_few_requests_under_the_ceiling_without_duplicates(
    sandbox, monday, board_id
):
    columns = columns_of(monday, board_id)
    writes, expected = [], {}
    for i in range(500):
        encoded = encode_values(columns, invoice_values(i))
        assert encoded.problems == ()
        if encoded.values.get("approved") is None:
            encoded.values.pop("approved")
        key = encoded.values["exact_key"]
        expected[key] = encoded.values
        writes.append(
            ItemWrite(
                ref=key,
                board_id=board_id,
                group_id="topics",
                name=f"Invoice {i}",
                column_values=encoded.values,
                key_column_id="exact_key",
                key_value=key,
                idempotency_key=idempotency_key_for(1, key, str(i)),
            )
        )
    before = len(sandbox.requests)
    results = upsert_items(monday, writes)
    sent = sandbox.requests[before:]
    assert [r.error for r in results] == [None] * 500 and all(r.created for r in results)
    ok = [r for r in sent if r["status"] == 200]
    print(
        f"\n500 items in {len(sent)} HTTP requests ({len(ok)} answered 200, "
        f"{monday.stats.rate_limit_waits} budget waits): {500 / len(sent):.1f} items per request; "
        f"max complexity {max(r['complexity'] for r in sent):,} of {MAX_QUERY_COMPLEXITY:,}"
    )
    assert len(sent) <= 25
    assert max(r["complexity"] for r in sent) < MAX_QUERY_COMPLEXITY / 3
    # 500 creates cost ~15M points, more than a minute's 10M budget: the client waited it out.
    assert monday.stats.rate_limit_waits >= 1

    items = sandbox.items(board_id)
    keys = [item["column_values"]["exact_key"] for item in items]
    assert len(items) == 500 and len(set(keys)) == 500

    # Read back through the API: every value is what was written.
    read = read_board_items(monday, board_id)
    assert len(read) == 500
    for item in read:
        values = {cv["id"]: json.loads(cv["value"]) for cv in item["column_values"] if cv["value"]}
        want = expected[values["exact_key"]]
        texts = {cv["id"]: cv["text"] for cv in item["column_values"]}
        for column_id, value in want.items():
            if column_id == "status":  # Monday stores a label as its index; its text is the label
                assert texts["status"] == value["label"]
            elif column_id == "cost_center":
                assert texts["cost_center"] == ", ".join(value["labels"])
            else:
                assert values[column_id] == value, column_id

    # Lost local state: the same writes again find every item by its Exact key.
    again = upsert_items(
        monday, [ItemWrite(**{**w.__dict__, "idempotency_key": ""}) for w in writes]
    )
    assert not any(r.created for r in again) and all(r.error is None for r in again)
    assert [r.item_id for r in again] == [r.item_id for r in results]
    assert len(sandbox.items(board_id)) == 500


def test_one_rejected_alias_leaves_the_others_written_with_mondays_message(
    sandbox, monday, board_id
):
    good = [
        ItemWrite(
            ref=f"ok{i}",
            board_id=board_id,
            group_id="topics",
            name=f"OK {i}",
            column_values={"exact_key": f"ok{i}"},
        )
        for i in range(3)
    ]
    bad = ItemWrite(
        ref="bad",
        board_id=board_id,
        group_id="topics",
        name="Bad",
        column_values={"exact_key": "bad", "cost_center": {"labels": ["KP-410"]}},
    )
    results = upsert_items(monday, [good[0], bad, good[1], good[2]])
    assert [r.error is None for r in results] == [True, False, True, True]
    error = results[1].error
    assert isinstance(error, MondayColumnError)
    assert error.message and error.code == "ColumnValueException" and error.request_id
    title = columns_of(monday, board_id)[error.column_id].title
    assert (
        error.admin_message(title)
        == "The Monday.com column “Cost center” has no label “KP-410”. Choose one of its labels in the mapping, or allow new labels on the route."
    )
    assert (
        str(error)
        == "The Monday.com column “Cost center” has no label “KP-410”. Choose one of its labels in the mapping, or allow new labels on the route."
    )
    assert sorted(i["name"] for i in sandbox.items(board_id)) == ["OK 0", "OK 1", "OK 2"]


def test_allowing_new_labels_writes_the_label_instead(sandbox, monday, board_id):
    write = ItemWrite(
        ref="x",
        board_id=board_id,
        group_id="topics",
        name="New label",
        column_values={"cost_center": {"labels": ["KP-410"]}},
        create_labels_if_missing=True,
    )
    (result,) = upsert_items(monday, [write])
    assert result.error is None
    assert sandbox.items(board_id)[0]["texts"]["cost_center"] == "KP-410"


def test_a_timed_out_request_that_monday_applied_is_replayed_with_the_same_key(
    sandbox, monday, board_id
):
    write = ItemWrite(
        ref="k1",
        board_id=board_id,
        group_id="topics",
        name="Invoice 1",
        column_values={"exact_key": "k1"},
        idempotency_key="mlc-route1-k1-hash",
    )
    sandbox.fail_next(apply_then_timeout=True)
    before = len(sandbox.requests)
    (result,) = upsert_items(monday, [write])
    sent = sandbox.requests[before:]
    assert result.error is None and result.item_id
    assert len(sandbox.items(board_id)) == 1
    assert [r["status"] for r in sent] == [504, 200] and sent[1]["replayed"]
    assert sent[0]["idempotency_key"] == sent[1]["idempotency_key"]


@pytest.mark.parametrize("code", ["COMPLEXITY_BUDGET_EXHAUSTED", "RATE_LIMIT_EXCEEDED"])
def test_budget_exhausted_and_rate_limited_answers_are_waited_out(sandbox, monday, board_id, code):
    writes = [
        ItemWrite(
            ref=str(i),
            board_id=board_id,
            group_id="topics",
            name=f"I{i}",
            column_values={"exact_key": str(i)},
        )
        for i in range(120)
    ]
    sandbox.fail_next(error_code=code, retry_in_seconds=17)
    results = upsert_items(monday, writes)
    assert all(r.error is None for r in results)
    assert len(sandbox.items(board_id)) == 120
    assert monday.stats.rate_limit_waits == 1 and monday.stats.waited_seconds == 17


def test_subitems_follow_the_lines_including_the_first_subitem_board(sandbox, monday, board_id):
    (parent,) = upsert_items(
        monday,
        [
            ItemWrite(
                ref="p", board_id=board_id, group_id="topics", name="Order 1", column_values={}
            )
        ],
    )
    assert sandbox.subitems_board_id(board_id) is None

    def line(ref, amount, **kw):
        return SubitemWrite(
            ref=ref,
            name=f"Line {ref}",
            column_values={"text": ref, "numbers": amount},
            key_column_id="text",
            key_value=ref,
            **kw,
        )

    first = sync_subitems(
        monday, parent.item_id, [line("L1", "10.5"), line("L2", "-3"), line("L3", "7")]
    )
    assert all(r.created and r.error is None for r in first)
    assert sandbox.subitems_board_id(board_id)
    # Lost local ids: L1 changed, L2 removed (marked), L4 new; matched by line id, no duplicates.
    second = sync_subitems(
        monday,
        parent.item_id,
        [line("L1", "11"), line("L2", "0", removed=True), line("L3", "7"), line("L4", "1")],
    )
    assert [r.created for r in second] == [False, False, False, True]
    subs = {s["texts"]["text"]: s for s in sandbox.items(board_id)[0]["subitems"]}
    assert sorted(subs) == ["L1", "L2", "L3", "L4"]
    assert subs["L1"]["texts"]["numbers"] == "11" and subs["L2"]["texts"]["numbers"] == "0"


@pytest.mark.django_db
def test_boards_are_discovered_and_cached_with_compatible_columns(sandbox, api_url, board_id):
    conn = factories.make_monday_connection(api_url=api_url, api_token=TOKEN)
    assert refresh_boards(conn) >= 1
    board = MondayBoard.objects.get(connection=conn, board_id=board_id)
    assert compatible_columns(board, ColumnRole.AMOUNT) == [("amount", "Amount")]
    assert ("cost_center", "Cost center") in compatible_columns(board, ColumnRole.COST_CENTER)
    assert [g["id"] for g in board.groups] == ["topics", "group_review", "group_done"]


@pytest.mark.django_db
def test_an_invalid_token_marks_the_connection_needs_reauth_audited_and_shown_in_admin(
    api_url, board_id, admin_client
):
    conn = factories.make_monday_connection(api_url=api_url, api_token="revoked-token")
    with pytest.raises(MondayAuthError):
        monday_connections.upsert_for_connection(
            conn,
            [ItemWrite(ref="a", board_id=board_id, group_id="topics", name="A", column_values={})],
        )
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.NEEDS_REAUTH
    assert (
        AuditEvent.objects.filter(
            action="monday.connection.needs_attention", object_id=str(conn.pk)
        ).count()
        == 1
    )
    page = admin_client.get("/admin/integrations/mondayconnection/").content.decode()
    assert "Needs re-authorization" in page and conn.last_error in page


@pytest.mark.django_db
def test_a_pasted_token_connects_against_the_sandbox(api_url, settings, staff_user):
    settings.MONDAY_API_URL = api_url
    conn = monday_connections.connect_monday_token(user=staff_user, name="Sandbox", token=TOKEN)
    assert (conn.status, conn.user_name, conn.account_name) == (
        ConnectionStatus.CONNECTED,
        "Sandy Sandbox",
        "Sandbox Finance",
    )
