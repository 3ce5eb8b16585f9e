"""Monday.com values with hostile text go through the encoders and the sandbox and read back
intact: quotes, newlines, backslashes, emoji, JSON-looking text, 10,000 characters.

Documented changes only: a text column is one line (line breaks become spaces,
columns.encode_text), and an item name is cut at 255 characters (item_builder).
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.monday import columns
from integrations.monday.client import MondayClient
from integrations.monday.items import ItemWrite, read_board_items, upsert_items
from integrations.sandbox.clock import SandboxClock
from integrations.sandbox.monday import MondaySandbox
from integrations.sandbox.server import serve
from integrations.sync import item_builder
from tests.reliability.counters import COUNTS

TOKEN = "hostile-values-token"
HOSTILE = [
    'He said "stop"',
    "it's O'Neil's",
    "back\\slash \\n not a newline \\u0000 \\\\",
    "line one\nline two\r\nline three\rline four",
    "emoji 😀👩🏽‍💻🇳🇱 and ZWJ",
    '{"label": "Paid", "text": "x"}',
    '"}, "amount": {"text": "1"}, "x": {"',
    '[1, 2, {"a": null}]',
    "mutation { delete_item(item_id: 1) { id } }",
    "$variables { __typename }",
    "<script>alert(1)</script>&amp;",
    "\u202e\u200b\ufeff invisible",
    "   leading and trailing spaces   ",
    "\t\ttabs\t",
    "x" * 10_000,
    ('ab"\\\n😀' * 2000),
]
hostile_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200) | st.sampled_from(
    HOSTILE
)


def one_line(value: str) -> str:
    return value.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


@settings(max_examples=300, deadline=None)
@given(value=hostile_text)
def test_encoders_keep_hostile_text_through_the_json_argument(value):
    COUNTS["bad inputs tried: hostile Monday values"] += 1
    text = columns.encode_text(value)
    assert text == one_line(value) and "\n" not in text and "\r" not in text
    long = columns.encode_long_text(value)
    argument = columns.encode_column_values({"t": text, "l": long})
    assert json.loads(argument) == {"t": one_line(value), "l": {"text": value}}


@pytest.fixture(scope="module")
def served():
    # Every limit on; the client's waits advance the sandbox's (frozen) clock instead of time.
    clock = SandboxClock()
    sandbox = MondaySandbox(clock=clock)
    sandbox.add_token(TOKEN)
    board_id = sandbox.finance_board()
    server, base_url = serve(sandbox)
    client = MondayClient(
        token=TOKEN, api_url=f"{base_url}/v2", sleep=clock.advance, clock=clock.timestamp
    )
    yield sandbox, board_id, client
    server.shutdown()
    server.server_close()


def write_and_read_back(served, values: list[str]) -> list[dict]:
    sandbox, board_id, client = served
    writes = [
        ItemWrite(
            ref=f"r{n}",
            board_id=board_id,
            group_id="topics",
            name=f"Invoice · {value}"[:255],
            column_values={
                "account_name": columns.encode_text(value),
                "description": columns.encode_long_text(value),
            },
        )
        for n, value in enumerate(values)
    ]
    results = upsert_items(client, writes)
    assert [r.error for r in results] == [None] * len(values)
    ids = {r.item_id for r in results}
    items = {
        i["id"]: i for i in read_board_items(client, board_id, ["account_name", "description"])
    }
    return [items[r.item_id] for r in results if r.item_id in ids]


def column(item: dict, column_id: str) -> dict:
    return next(c for c in item["column_values"] if c["id"] == column_id)


def test_hostile_fixed_values_read_back_intact_or_as_documented(served):
    COUNTS["bad inputs tried: hostile Monday values"] += len(HOSTILE)
    for value, item in zip(HOSTILE, write_and_read_back(served, HOSTILE), strict=True):
        assert item["name"] == f"Invoice · {value}"[:255]
        assert column(item, "account_name")["text"] == one_line(value)
        assert json.loads(column(item, "description")["value"])["text"] == value
        assert column(item, "description")["text"] == value


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(hostile_text.filter(lambda v: v.strip()), min_size=1, max_size=5))
def test_random_hostile_values_read_back_intact(served, values):
    COUNTS["bad inputs tried: hostile Monday values"] += len(values)
    for value, item in zip(values, write_and_read_back(served, values), strict=True):
        assert column(item, "account_name")["text"] == one_line(value)
        assert json.loads(column(item, "description")["value"])["text"] == value


@pytest.mark.django_db
def test_a_hostile_invoice_goes_through_the_whole_pipeline_intact(live):
    COUNTS["bad inputs tried: hostile Monday values"] += 2
    description = 'Regel 1: "quoted" \\ back\nRegel 2 😀 {"label": "Paid"}\n' + "z" * 10_000
    account = live.exact.add_account(101, "C666", 'Bakkerij "De Één" 😀 \\ {"x": 1} ' + "n" * 300)
    live.customer = account
    invoice = live.invoice(description=description, invoice_date=date(2026, 11, 23))
    assert live.drain() == ["done"]
    (item,) = live.items()
    assert item["texts"]["description"] == description
    assert item["texts"]["account_name"] == account["Name"]
    noun = item_builder.ENTITY_NOUNS["sales_invoice"]
    assert item["name"] == f"{noun} {invoice['InvoiceNumber']} · {account['Name']}"[:255]
    assert len(item["name"]) == 255
