"""The Monday.com sandbox behaves like the real API: strict values, limits, error shapes."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime

import pytest
import requests

from integrations.sandbox.clock import SandboxClock
from integrations.sandbox.monday import MondaySandbox
from integrations.sandbox.server import combined_app, serve

TOKEN = "sandbox-token-1"

CREATE = """
mutation ($board: ID!, $name: String!, $values: JSON, $group: String, $labels: Boolean) {
  create_item(board_id: $board, item_name: $name, column_values: $values, group_id: $group,
              create_labels_if_missing: $labels) { id }
}"""
CHANGE = """
mutation ($board: ID!, $item: ID!, $values: JSON!, $labels: Boolean) {
  change_multiple_column_values(board_id: $board, item_id: $item, column_values: $values,
                                create_labels_if_missing: $labels) { id name }
}"""
READ = """
query ($ids: [ID!]) {
  items(ids: $ids) { id name group { id } column_values { id type text value } }
}"""


class Response:
    def __init__(self, status: str, headers: list, body: bytes) -> None:
        self.status_code = int(status.split()[0])
        self.headers = dict(headers)
        self.text = body.decode("utf-8")

    def json(self):
        return json.loads(self.text)


def call(app, body, *, token=TOKEN, headers=None, method="POST", path="/v2", raw=None):
    payload = raw if raw is not None else json.dumps(body).encode("utf-8")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(payload)),
        "wsgi.input": io.BytesIO(payload),
    }
    if token is not None:
        environ["HTTP_AUTHORIZATION"] = token
    for name, value in (headers or {}).items():
        if name.lower() == "content-type":
            environ["CONTENT_TYPE"] = value
        else:
            environ["HTTP_" + name.upper().replace("-", "_")] = value
    seen = {}

    def start_response(status, response_headers):
        seen["status"], seen["headers"] = status, response_headers

    body_bytes = b"".join(app(environ, start_response))
    return Response(seen["status"], seen["headers"], body_bytes)


def gql(app, query, variables=None, **kw):
    return call(app, {"query": query, "variables": variables or {}}, **kw)


def codes(response) -> list:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


@pytest.fixture
def clock():
    return SandboxClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


@pytest.fixture
def sandbox(clock):
    return MondaySandbox(clock=clock, tokens={TOKEN: {}})


@pytest.fixture
def board(sandbox):
    return sandbox.finance_board()


def create(sandbox, board, name="INV-1", values=None, *, token=TOKEN, headers=None, **variables):
    encoded = json.dumps(values) if values is not None else None
    variables = {"board": board, "name": name, "values": encoded, **variables}
    return gql(sandbox, CREATE, variables, token=token, headers=headers)


def created_id(response) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["create_item"]["id"]


def read_item(sandbox, item_id) -> dict:
    item = gql(sandbox, READ, {"ids": [item_id]}).json()["data"]["items"][0]
    item["by_id"] = {cv["id"]: cv for cv in item["column_values"]}
    return item


@pytest.fixture
def served(sandbox):
    server, base_url = serve(sandbox)
    yield f"{base_url}/v2"
    server.shutdown()
    server.server_close()


# -- authentication and the HTTP envelope ------------------------------------------------------


def test_me_answers_the_user_and_account_of_the_token(sandbox):
    sandbox.add_token("other", user_name="Anna Admin", email="anna@acme.test", account_name="Acme")
    response = gql(
        sandbox, "{ me { id name email account { id name } } account { name } }", token="other"
    )
    assert response.json()["data"]["account"] == {"name": "Acme"}
    me = response.json()["data"]["me"]
    assert (me["name"], me["email"], me["account"]["name"]) == (
        "Anna Admin",
        "anna@acme.test",
        "Acme",
    )


def test_an_unknown_token_gets_401_not_authenticated_and_nothing_runs(sandbox, board):
    response = create(sandbox, board, token="wrong-token")
    assert response.status_code == 401
    error = response.json()["errors"][0]
    assert error["message"] == "Not Authenticated"
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert sandbox.items(board) == []
    assert gql(sandbox, "{ me { id } }", token=None).status_code == 401


def test_a_bearer_prefix_on_the_token_is_accepted(sandbox):
    response = gql(sandbox, "{ me { name } }", token=f"Bearer {TOKEN}")
    assert response.json()["data"]["me"]["name"] == "Sandy Sandbox"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"raw": b"query=me"},
        {"raw": json.dumps({"query": "{ me { id } }", "variables": "{}"}).encode()},
        {"raw": json.dumps({"variables": {}}).encode()},
    ],
    ids=["form-content-type", "not-json", "variables-as-string", "no-query"],
)
def test_the_body_must_be_json_with_a_query_and_object_variables(sandbox, kwargs):
    response = call(sandbox, None, **kwargs)
    assert response.status_code == 400
    assert codes(response) == ["BAD_REQUEST"]


def test_the_api_version_header_is_echoed_and_recorded(sandbox):
    response = gql(sandbox, "{ me { id } }", headers={"API-Version": "2025-04"})
    assert response.headers["API-Version"] == "2025-04"
    assert sandbox.api_versions == ["2025-04"]


def test_post_to_root_serves_graphql_too(sandbox):
    response = gql(sandbox, "{ me { id } }", path="/")
    assert response.json()["data"]["me"]["id"]


def test_a_document_invalid_for_the_real_schema_is_refused_and_costs_nothing(sandbox):
    response = gql(sandbox, "{ boards { id item_count } }")
    assert response.status_code == 200
    assert codes(response) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "data" not in response.json()
    assert "item_count" in response.json()["errors"][0]["message"]
    assert sandbox.requests[-1]["complexity"] == 0
    assert codes(gql(sandbox, "{ me { id ")) == ["GRAPHQL_VALIDATION_FAILED"]


def test_a_variable_of_the_wrong_type_is_refused_before_anything_runs(sandbox, board):
    response = gql(sandbox, CREATE, {"board": board, "name": ["not", "a", "string"]})
    assert codes(response) == ["GRAPHQL_VALIDATION_FAILED"]
    assert sandbox.items(board) == []


def test_a_valid_field_the_sandbox_does_not_implement_is_an_error_not_a_silent_null(sandbox):
    response = gql(sandbox, "{ tags { id } }")
    assert codes(response) == ["SANDBOX_NOT_IMPLEMENTED"]


# -- column values -----------------------------------------------------------------------------


def test_created_values_read_back_as_monday_returns_them(sandbox, board):
    values = {
        "exact_key": 'a1b2 "quoted"\nline',
        "amount": "-1234.5678",
        "invoice_date": {"date": "2026-11-23"},
        "due_date": {"date": "2026-12-01", "time": "23:30:00"},
        "status": {"label": "Paid"},
        "review": {"index": 1},
        "gl_account": {"labels": ["8000 Revenue"]},
        "cost_center": {"ids": [2]},
        "exact_link": {"url": "https://start.exactonline.nl/x", "text": "Open in Exact"},
        "description": {"text": "Consultancy, November"},
        "contact_email": {"email": "ap@client.test", "text": "AP"},
        "approved": {"checked": "true"},
    }
    item = read_item(sandbox, created_id(create(sandbox, board, "INV-1", values)))
    cv = item["by_id"]
    assert cv["exact_key"]["text"] == 'a1b2 "quoted"\nline'
    assert json.loads(cv["exact_key"]["value"]) == 'a1b2 "quoted"\nline'
    assert (cv["amount"]["text"], json.loads(cv["amount"]["value"])) == ("-1234.5678", "-1234.5678")
    assert json.loads(cv["invoice_date"]["value"]) == {"date": "2026-11-23"}
    assert cv["due_date"]["text"] == "2026-12-01 23:30"
    assert (cv["status"]["text"], json.loads(cv["status"]["value"])) == ("Paid", {"index": 1})
    assert cv["review"]["text"] == "Needs review"
    assert (cv["gl_account"]["text"], json.loads(cv["gl_account"]["value"])) == (
        "8000 Revenue",
        {"ids": [1]},
    )
    assert cv["cost_center"]["text"] == "KP-200"
    assert cv["exact_link"]["text"] == "Open in Exact - https://start.exactonline.nl/x"
    assert cv["description"]["text"] == "Consultancy, November"
    assert cv["contact_email"]["text"] == "ap@client.test"
    assert cv["approved"]["text"] == "v"
    assert cv["account_name"] == {
        "id": "account_name",
        "type": "text",
        "text": "",
        "value": None,
    }
    assert sandbox.items(board)[0]["column_values"]["amount"] == "-1234.5678"


def test_column_values_sent_as_an_object_instead_of_a_string_are_refused(sandbox, board):
    response = gql(sandbox, CREATE, {"board": board, "name": "X", "values": {"amount": "1"}})
    assert codes(response) == ["ColumnValueException"]
    assert response.json()["data"] == {"create_item": None}
    twice = json.dumps(json.dumps({"amount": "1"}))
    assert codes(gql(sandbox, CREATE, {"board": board, "name": "X", "values": twice})) == [
        "ColumnValueException"
    ]
    assert sandbox.items(board) == []


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("amount", 12.5),
        ("amount", "12,50"),
        ("exact_key", 42),
        ("description", "plain text"),
        ("invoice_date", "2026-11-23"),
        ("invoice_date", {"date": "23-11-2026"}),
        ("invoice_date", {"date": "2026-02-30"}),
        ("due_date", {"date": "2026-11-23", "time": "25:00:00"}),
        ("due_date", {"date": "2026-11-23", "time": "14:30"}),
        ("status", "Paid"),
        ("review", {"index": 7}),
        ("gl_account", {"ids": [99]}),
        ("gl_account", ["8000 Revenue"]),
        ("exact_link", {"text": "no url"}),
        ("exact_link", {"url": "javascript:alert(1)", "text": "x"}),
        ("contact_email", {"email": "not-an-address", "text": "x"}),
        ("approved", {"checked": True}),
        ("owner", {"personsAndTeams": [{"id": 123, "kind": "person"}]}),
    ],
)
def test_a_value_that_does_not_fit_its_column_type_is_refused(sandbox, board, column, value):
    response = create(sandbox, board, "INV-1", {column: value})
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "ColumnValueException"
    assert error["extensions"]["error_data"]["column_id"] == column
    assert sandbox.items(board) == []


def test_a_person_of_the_account_can_be_assigned_in_a_people_column(sandbox, board):
    me = gql(sandbox, "{ me { id } }").json()["data"]["me"]["id"]
    owner = {"personsAndTeams": [{"id": int(me), "kind": "person"}]}
    item = read_item(sandbox, created_id(create(sandbox, board, "INV-1", {"owner": owner})))
    assert item["by_id"]["owner"]["text"] == "Sandy Sandbox"


def test_an_unknown_status_label_is_refused_unless_labels_may_be_created(sandbox, board):
    refused = create(sandbox, board, "INV-1", {"status": {"label": "Disputed"}})
    assert codes(refused) == ["ColumnValueException"]
    assert "label does not exist" in refused.json()["errors"][0]["message"]

    item_id = created_id(
        create(sandbox, board, "INV-1", {"status": {"label": "Disputed"}}, labels=True)
    )
    assert read_item(sandbox, item_id)["by_id"]["status"]["text"] == "Disputed"
    columns = gql(
        sandbox,
        "query ($b: [ID!]) { boards(ids: $b) { columns { id settings_str } } }",
        {"b": [board]},
    ).json()["data"]["boards"][0]["columns"]
    status = next(c for c in columns if c["id"] == "status")
    assert "Disputed" in json.loads(status["settings_str"])["labels"].values()


def test_an_unknown_dropdown_label_with_non_ascii_text_is_created_when_asked(sandbox, board):
    item_id = created_id(
        create(
            sandbox,
            board,
            "INV-1",
            {"cost_center": {"labels": ["Kostenplaats Zürich €"]}},
            labels=True,
        )
    )
    assert read_item(sandbox, item_id)["by_id"]["cost_center"]["text"] == "Kostenplaats Zürich €"


def test_an_unknown_column_id_is_refused_with_invalid_column_id(sandbox, board):
    response = create(sandbox, board, "INV-1", {"no_such_column": "x"})
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "InvalidColumnIdException"
    assert error["message"] == "This column ID doesn't exist for the board"


def test_an_item_name_over_255_characters_is_refused(sandbox, board):
    assert codes(create(sandbox, board, "x" * 256)) == ["ItemNameTooLongException"]
    created_id(create(sandbox, board, "x" * 255))


def test_a_full_board_refuses_new_items(clock):
    sandbox = MondaySandbox(clock=clock, tokens={TOKEN: {}}, board_item_limit=2)
    board = sandbox.finance_board()
    created_id(create(sandbox, board, "A"))
    created_id(create(sandbox, board, "B"))
    refused = create(sandbox, board, "C")
    # Monday's shape for an application error: HTTP 200, the field null, its error with a path.
    assert refused.status_code == 200
    body = refused.json()
    assert body["data"] == {"create_item": None}
    (error,) = body["errors"]
    assert error["path"] == ["create_item"]
    assert error["extensions"]["code"] == "ItemsLimitationException"
    assert [i["name"] for i in sandbox.items(board)] == ["A", "B"]


def test_the_board_item_cap_is_monday_s_10000_by_default(sandbox):
    assert sandbox.store.max_items_per_board == 10_000
    assert sandbox.store.enforce_item_limit is True


def test_a_full_subitems_board_refuses_new_subitems(clock):
    sandbox = MondaySandbox(clock=clock, tokens={TOKEN: {}}, board_item_limit=2)
    board = sandbox.finance_board()
    parent = created_id(create(sandbox, board, "INV-1"))
    for name in ("Line 1", "Line 2"):
        assert "errors" not in gql(sandbox, SUBITEM, {"p": parent, "n": name}).json()
    refused = gql(sandbox, SUBITEM, {"p": parent, "n": "Line 3"}).json()
    assert refused["data"] == {"create_subitem": None}
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["ItemsLimitationException"]


def test_the_board_item_cap_can_be_switched_off_by_name(clock):
    sandbox = MondaySandbox(
        clock=clock, tokens={TOKEN: {}}, board_item_limit=1, limits_off={"board_items"}
    )
    board = sandbox.finance_board()
    for name in "ABC":
        created_id(create(sandbox, board, name))


def test_aliased_mutations_are_not_atomic(sandbox, board):
    document = """
    mutation ($b: ID!, $good: JSON, $bad: JSON) {
      first: create_item(board_id: $b, item_name: "A", column_values: $good) { id }
      second: create_item(board_id: $b, item_name: "B", column_values: $bad) { id }
      third: create_item(board_id: $b, item_name: "C", column_values: $good) { id }
    }"""
    good = json.dumps({"amount": "1"})
    bad = json.dumps({"status": {"label": "Nope"}})
    body = gql(sandbox, document, {"b": board, "good": good, "bad": bad}).json()
    assert body["data"]["second"] is None
    assert body["data"]["first"]["id"] and body["data"]["third"]["id"]
    assert [e["path"] for e in body["errors"]] == [["second"]]
    assert sorted(i["name"] for i in sandbox.items(board)) == ["A", "C"]
    assert sandbox.requests[-1]["mutations"] == 3


def test_change_multiple_column_values_changes_only_the_given_columns(sandbox, board):
    item_id = created_id(create(sandbox, board, "INV-1", {"amount": "10", "exact_key": "K1"}))
    body = gql(
        sandbox,
        CHANGE,
        {"board": board, "item": item_id, "values": json.dumps({"amount": "20", "name": "INV-1b"})},
    ).json()
    assert body["data"]["change_multiple_column_values"]["name"] == "INV-1b"
    item = read_item(sandbox, item_id)
    assert (item["by_id"]["amount"]["text"], item["by_id"]["exact_key"]["text"]) == ("20", "K1")


def test_a_refused_value_leaves_the_item_untouched(sandbox, board):
    item_id = created_id(create(sandbox, board, "INV-1", {"amount": "10"}))
    values = json.dumps({"amount": "20", "invoice_date": {"date": "yesterday"}})
    response = gql(sandbox, CHANGE, {"board": board, "item": item_id, "values": values})
    assert codes(response) == ["ColumnValueException"]
    assert read_item(sandbox, item_id)["by_id"]["amount"]["text"] == "10"


def test_an_empty_value_clears_a_column(sandbox, board):
    item_id = created_id(create(sandbox, board, "INV-1", {"amount": "10", "status": {"index": 0}}))
    values = json.dumps({"amount": "", "status": None})
    gql(sandbox, CHANGE, {"board": board, "item": item_id, "values": values})
    cv = read_item(sandbox, item_id)["by_id"]
    assert (cv["amount"]["value"], cv["status"]["text"]) == (None, "")


def test_change_simple_column_value_takes_a_plain_string(sandbox, board):
    item_id = created_id(create(sandbox, board, "INV-1"))
    document = """mutation ($b: ID!, $i: ID!, $c: String!, $v: String) {
      change_simple_column_value(board_id: $b, item_id: $i, column_id: $c, value: $v) { id } }"""
    gql(sandbox, document, {"b": board, "i": item_id, "c": "status", "v": "Overdue"})
    gql(sandbox, document, {"b": board, "i": item_id, "c": "amount", "v": "99.95"})
    cv = read_item(sandbox, item_id)["by_id"]
    assert (cv["status"]["text"], cv["amount"]["text"]) == ("Overdue", "99.95")
    response = gql(sandbox, document, {"b": board, "i": item_id, "c": "amount", "v": "lots"})
    assert codes(response) == ["ColumnValueException"]


def test_an_item_of_another_board_or_an_unknown_board_is_refused(sandbox, board):
    other = sandbox.add_board(
        "Other", columns=[{"id": "text", "title": "T", "type": "text"}], groups=[]
    )
    item_id = created_id(create(sandbox, board, "INV-1"))
    values = json.dumps({"text": "x"})
    assert codes(gql(sandbox, CHANGE, {"board": other, "item": item_id, "values": values})) == [
        "InvalidItemIdException"
    ]
    assert codes(create(sandbox, "999", "X")) == ["InvalidBoardIdException"]
    assert codes(create(sandbox, board, "X", group="no_group")) == ["InvalidGroupIdException"]


# -- subitems, reading, paging, finding ------------------------------------------------------


SUBITEM = """mutation ($p: ID!, $n: String!, $v: JSON) {
  create_subitem(parent_item_id: $p, item_name: $n, column_values: $v) { id board { id } } }"""


def test_the_first_subitem_creates_the_subitems_board_and_its_column(sandbox, board):
    parent = created_id(create(sandbox, board, "INV-1"))
    assert sandbox.subitems_board_id(board) is None
    body = gql(
        sandbox,
        SUBITEM,
        {"p": parent, "n": "Line 1", "v": json.dumps({"numbers": "3", "text": "L-1"})},
    ).json()
    sub_board = body["data"]["create_subitem"]["board"]["id"]
    assert sub_board == sandbox.subitems_board_id(board) != board
    gql(sandbox, SUBITEM, {"p": parent, "n": "Line 2", "v": None})
    document = """query ($b: [ID!]) { boards(ids: $b) { columns { id type settings_str }
      items_page(limit: 5) { items { subitems { name column_values { id text } } } } } }"""
    shown = gql(sandbox, document, {"b": [board]}).json()["data"]["boards"][0]
    subtasks = [c for c in shown["columns"] if c["type"] == "subtasks"]
    assert json.loads(subtasks[0]["settings_str"])["boardIds"] == [int(sub_board)]
    subitems = shown["items_page"]["items"][0]["subitems"]
    assert [s["name"] for s in subitems] == ["Line 1", "Line 2"]
    assert {"id": "numbers", "text": "3"} in subitems[0]["column_values"]
    assert [s["name"] for s in sandbox.items(board)[0]["subitems"]] == ["Line 1", "Line 2"]
    bad = gql(sandbox, SUBITEM, {"p": parent, "n": "Line 3", "v": json.dumps({"numbers": 3})})
    assert codes(bad) == ["ColumnValueException"]


def test_deleting_an_item_deletes_its_subitems(sandbox, board):
    parent = created_id(create(sandbox, board, "INV-1"))
    sub = gql(sandbox, SUBITEM, {"p": parent, "n": "Line 1", "v": None}).json()
    sub_id = sub["data"]["create_subitem"]["id"]
    gql(sandbox, "mutation ($i: ID) { delete_item(item_id: $i) { id } }", {"i": parent})
    assert gql(sandbox, READ, {"ids": [parent, sub_id]}).json()["data"]["items"] == []
    assert sandbox.items(sandbox.subitems_board_id(board)) == []


def test_items_page_pages_with_a_cursor_that_expires_after_60_minutes(sandbox, board, clock):
    for n in range(5):
        created_id(create(sandbox, board, f"INV-{n}"))
    first = gql(
        sandbox,
        "query ($b: [ID!]) { boards(ids: $b) { items_page(limit: 2) { cursor items { name } } } }",
        {"b": [board]},
    ).json()
    page = first["data"]["boards"][0]["items_page"]
    assert [i["name"] for i in page["items"]] == ["INV-0", "INV-1"]
    nxt = "query ($c: String!) { next_items_page(cursor: $c, limit: 2) { cursor items { name } } }"
    second = gql(sandbox, nxt, {"c": page["cursor"]}).json()["data"]["next_items_page"]
    assert [i["name"] for i in second["items"]] == ["INV-2", "INV-3"]
    clock.advance(61 * 60)
    assert codes(gql(sandbox, nxt, {"c": second["cursor"]})) == ["CursorException"]


def test_items_page_filters_by_query_params_rules(sandbox, board):
    created_id(create(sandbox, board, "INV-1", {"status": {"label": "Paid"}}))
    created_id(create(sandbox, board, "INV-2", {"status": {"label": "Open"}}))
    document = """query ($b: [ID!], $q: ItemsQuery) { boards(ids: $b) {
      items_page(limit: 10, query_params: $q) { items { name } } } }"""
    rules = {"rules": [{"column_id": "status", "compare_value": ["Open"], "operator": "any_of"}]}
    body = gql(sandbox, document, {"b": [board], "q": rules}).json()
    assert body["data"]["boards"][0]["items_page"]["items"] == [{"name": "INV-2"}]


def test_boards_page_by_limit_and_groups_page_their_own_items(sandbox, board):
    second = sandbox.add_board("Second", columns=[], groups=[{"id": "g1", "title": "G1"}])
    created_id(create(sandbox, board, "In review", group="group_review"))
    created_id(create(sandbox, board, "Incoming"))
    pages = [
        gql(sandbox, "query ($p: Int) { boards(limit: 1, page: $p) { id } }", {"p": p}).json()
        for p in (1, 2, 3)
    ]
    assert [[b["id"] for b in p["data"]["boards"]] for p in pages] == [[board], [second], []]
    document = """query ($b: [ID!]) { boards(ids: $b) { groups(ids: ["group_review"]) {
      title items_page(limit: 10) { items { name } } } } }"""
    groups = gql(sandbox, document, {"b": [board]}).json()["data"]["boards"][0]["groups"]
    assert groups == [{"title": "Needs review", "items_page": {"items": [{"name": "In review"}]}}]


def test_items_by_ids_takes_at_most_100_ids(sandbox, board):
    item_id = created_id(create(sandbox, board, "INV-1"))
    assert [
        i["id"] for i in gql(sandbox, READ, {"ids": [item_id, "1"]}).json()["data"]["items"]
    ] == [item_id]
    assert gql(sandbox, READ, {"ids": [str(n) for n in range(101)]}).json()["errors"]


def test_items_page_limit_is_at_most_500(sandbox, board):
    response = gql(
        sandbox,
        "query ($b: [ID!]) { boards(ids: $b) { items_page(limit: 501) { items { id } } } }",
        {"b": [board]},
    )
    assert response.json()["errors"]


def test_items_page_by_column_values_finds_an_item_by_its_exact_key(sandbox, board):
    wanted = created_id(create(sandbox, board, "INV-1", {"exact_key": "guid-1"}))
    created_id(create(sandbox, board, "INV-2", {"exact_key": "guid-2"}))
    document = """query ($b: ID!, $v: [String]!) {
      items_page_by_column_values(board_id: $b, limit: 5,
        columns: [{column_id: "exact_key", column_values: $v}]) { cursor items { id } } }"""
    body = gql(sandbox, document, {"b": board, "v": ["guid-1"]}).json()
    assert body["data"]["items_page_by_column_values"]["items"] == [{"id": wanted}]
    assert sandbox.requests[-1]["complexity"] >= 100_000
    sandbox.delete_item(wanted)
    body = gql(sandbox, document, {"b": board, "v": ["guid-1"]}).json()
    assert body["data"]["items_page_by_column_values"]["items"] == []


def test_archive_delete_move_and_create_group(sandbox, board):
    a = created_id(create(sandbox, board, "A"))
    b = created_id(create(sandbox, board, "B"))
    group = gql(
        sandbox,
        'mutation ($b: ID!) { create_group(board_id: $b, group_name: "Q4") { id title } }',
        {"b": board},
    ).json()["data"]["create_group"]
    moved = gql(
        sandbox,
        "mutation ($g: String!, $i: ID) { move_item_to_group(group_id: $g, "
        "item_id: $i) { group { id } } }",
        {"g": group["id"], "i": a},
    ).json()
    assert moved["data"]["move_item_to_group"]["group"]["id"] == group["id"]
    gql(sandbox, "mutation ($i: ID) { archive_item(item_id: $i) { id } }", {"i": a})
    gql(sandbox, "mutation ($i: ID) { delete_item(item_id: $i) { id } }", {"i": b})
    assert sandbox.items(board) == []
    items = gql(sandbox, READ.replace("name group", "name state group"), {"ids": [a, b]})
    assert [(i["id"], i["state"]) for i in items.json()["data"]["items"]] == [(a, "archived")]
    again = gql(sandbox, "mutation ($i: ID) { delete_item(item_id: $i) { id } }", {"i": b})
    assert codes(again) == ["InvalidItemIdException"]


def test_manual_edits_and_deletions_on_the_board_are_visible_through_the_api(sandbox, board):
    item_id = created_id(create(sandbox, board, "INV-1", {"amount": "10"}))
    sandbox.edit_item(item_id, "amount", "11")
    sandbox.edit_item(item_id, "review", {"label": "Checked by hand"})
    cv = read_item(sandbox, item_id)["by_id"]
    assert (cv["amount"]["text"], cv["review"]["text"]) == ("11", "Checked by hand")
    sandbox.delete_item(item_id)
    assert gql(sandbox, READ, {"ids": [item_id]}).json()["data"]["items"] == []


# -- complexity, budget and rate limits ------------------------------------------------------


def test_create_item_asking_for_its_id_costs_30001(sandbox, board):
    created_id(create(sandbox, board))
    assert sandbox.requests[-1]["complexity"] == 30_001
    assert sandbox.requests[-1]["mutations"] == 1


def test_the_complexity_field_in_a_mutation_is_not_charged_as_a_mutation(sandbox, board):
    document = """mutation ($b: ID!) { complexity { before query after }
      a: create_item(board_id: $b, item_name: "A") { id }
      b: create_item(board_id: $b, item_name: "B") { id } }"""
    body = gql(sandbox, document, {"b": board}).json()
    assert body["data"]["complexity"]["query"] == sandbox.requests[-1]["complexity"]
    assert sandbox.requests[-1]["complexity"] == 2 * 30_001 + 13
    assert sandbox.requests[-1]["mutations"] == 2
    assert body["data"]["complexity"]["after"] == 10_000_000 - 2 * 30_001 - 13


def test_the_complexity_field_reports_the_budget_truthfully(sandbox, board, clock):
    created_id(create(sandbox, board))
    clock.advance(10)
    document = "{ complexity { before after query reset_in_x_seconds } }"
    report = gql(sandbox, document).json()["data"]["complexity"]
    cost = sandbox.requests[-1]["complexity"]
    assert report == {
        "before": 10_000_000 - 30_001,
        "query": cost,
        "after": 10_000_000 - 30_001 - cost,
        "reset_in_x_seconds": 50,
    }


def test_a_query_over_the_per_query_ceiling_is_refused_without_running(board, clock):
    sandbox = MondaySandbox(clock=clock, tokens={TOKEN: {}}, max_query_complexity=50_000)
    board = sandbox.finance_board()
    document = (
        'mutation ($b: ID!) { a: create_item(board_id: $b, item_name: "A") { id } '
        'b: create_item(board_id: $b, item_name: "B") { id } }'
    )
    response = gql(sandbox, document, {"b": board})
    assert codes(response) == ["REQUEST_MAX_COMPLEXITY_EXCEEDED"]
    assert sandbox.items(board) == []


def test_an_exhausted_budget_is_answered_with_retry_in_seconds_and_nothing_applied(clock):
    sandbox = MondaySandbox(clock=clock, tokens={TOKEN: {}}, budget_per_minute=70_000)
    board = sandbox.finance_board()
    created_id(create(sandbox, board, "A"))
    clock.advance(15)
    created_id(create(sandbox, board, "B"))
    refused = create(sandbox, board, "C")
    assert refused.status_code == 200
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "COMPLEXITY_BUDGET_EXHAUSTED"
    assert error["extensions"]["retry_in_seconds"] == 45
    assert [i["name"] for i in sandbox.items(board)] == ["A", "B"]
    clock.advance(45)
    created_id(create(sandbox, board, "C"))


def test_the_minute_request_limit_answers_429_with_retry_after(clock):
    sandbox = MondaySandbox(clock=clock, tokens={TOKEN: {}}, requests_per_minute=2)
    gql(sandbox, "{ me { id } }")
    clock.advance(20)
    gql(sandbox, "{ me { id } }")
    limited = gql(sandbox, "{ me { id } }")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "40"
    assert codes(limited) == ["RATE_LIMIT_EXCEEDED"]
    clock.advance(40)
    assert gql(sandbox, "{ me { id } }").status_code == 200


def test_the_limits_default_to_the_basic_plan_of_the_reference(sandbox):
    assert sandbox.limits_off == frozenset()
    assert sandbox.budget_per_minute == 10_000_000
    assert sandbox.max_query_complexity == 5_000_000
    assert sandbox.requests_per_minute == 1000  # basic/standard plan, reference "Limits"
    assert sandbox.daily_call_limit == 1000  # basic/standard plan, support.monday.com


def test_an_unknown_limit_name_is_an_error_not_a_silent_no_op(clock):
    with pytest.raises(ValueError, match="rate_limits"):
        MondaySandbox(clock=clock, limits_off={"rate_limits"})
    with pytest.raises(TypeError):
        MondaySandbox(clock=clock, limits_off="daily_calls")


def test_the_daily_call_limit_answers_daily_limit_exceeded_until_midnight_utc(clock):
    sandbox = MondaySandbox(clock=clock, tokens={TOKEN: {}}, daily_call_limit=3)
    sandbox.add_token("same-account")  # the limit is the account's, whichever token calls
    gql(sandbox, "{ me { id } }")
    gql(sandbox, "{ me { id } }", token="same-account")
    gql(sandbox, "{ bad_field }")  # refused calls count too
    refused = gql(sandbox, "{ me { id } }")
    assert refused.status_code == 429
    assert codes(refused) == ["DAILY_LIMIT_EXCEEDED"]
    # 09:00 UTC: 15 hours to midnight UTC.
    assert refused.json()["errors"][0]["extensions"]["retry_in_seconds"] == 15 * 3600
    assert refused.headers["Retry-After"] == str(15 * 3600)
    clock.advance(3600)  # the next minute window does not lift a daily limit
    assert codes(gql(sandbox, "{ me { id } }")) == ["DAILY_LIMIT_EXCEEDED"]
    clock.advance(14 * 3600)
    assert gql(sandbox, "{ me { id } }").json()["data"]["me"]["id"]


TWO_CREATES = (
    'mutation ($b: ID!) { a: create_item(board_id: $b, item_name: "A") { id } '
    'b: create_item(board_id: $b, item_name: "B") { id } }'
)


def test_the_query_ceiling_can_be_switched_off_alone(clock):
    sandbox = MondaySandbox(
        clock=clock,
        tokens={TOKEN: {}},
        limits_off={"query_ceiling"},
        max_query_complexity=30_000,
        budget_per_minute=70_000,
    )
    board = sandbox.finance_board()
    assert "errors" not in gql(sandbox, TWO_CREATES, {"b": board}).json()  # 60,002 > 30,000
    assert codes(create(sandbox, board, "C")) == ["COMPLEXITY_BUDGET_EXHAUSTED"]


def test_the_complexity_budget_can_be_switched_off_alone_and_costs_are_still_reported(clock):
    sandbox = MondaySandbox(
        clock=clock,
        tokens={TOKEN: {}},
        limits_off={"complexity_budget"},
        budget_per_minute=40_000,
        max_query_complexity=50_000,
    )
    board = sandbox.finance_board()
    for name in "ABC":
        created_id(create(sandbox, board, name))
    assert [r["complexity"] for r in sandbox.requests] == [30_001] * 3
    assert codes(gql(sandbox, TWO_CREATES, {"b": board})) == ["REQUEST_MAX_COMPLEXITY_EXCEEDED"]


def test_the_request_rate_can_be_switched_off_alone(clock):
    sandbox = MondaySandbox(
        clock=clock,
        tokens={TOKEN: {}},
        limits_off={"requests_per_minute"},
        requests_per_minute=2,
        daily_call_limit=4,
    )
    for _ in range(4):
        assert gql(sandbox, "{ me { id } }").status_code == 200
    assert codes(gql(sandbox, "{ me { id } }")) == ["DAILY_LIMIT_EXCEEDED"]


def test_the_daily_call_limit_can_be_switched_off_alone(clock):
    sandbox = MondaySandbox(
        clock=clock,
        tokens={TOKEN: {}},
        limits_off={"daily_calls"},
        requests_per_minute=3,
        daily_call_limit=2,
    )
    for _ in range(3):
        assert gql(sandbox, "{ me { id } }").status_code == 200
    assert codes(gql(sandbox, "{ me { id } }")) == ["RATE_LIMIT_EXCEEDED"]


def test_concurrent_writers_get_distinct_items_and_nothing_is_lost(sandbox, board, served):
    def writer(n):
        with requests.Session() as session:
            for i in range(10):
                variables = {"board": board, "name": f"W{n}-{i}"}
                answer = session.post(
                    served,
                    json={"query": CREATE, "variables": variables},
                    headers={"Authorization": TOKEN},
                    timeout=5,
                )
                assert answer.json()["data"]["create_item"]["id"]

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    items = sandbox.items(board)
    assert len(items) == 60
    assert len({i["id"] for i in items}) == 60
    assert len(sandbox.requests) == 60


# -- Idempotency-Key -------------------------------------------------------------------------


def test_a_retry_with_the_same_idempotency_key_replays_the_first_answer(sandbox, board):
    first = create(sandbox, board, "INV-1", headers={"Idempotency-Key": "k-1"})
    again = create(sandbox, board, "INV-1", headers={"Idempotency-Key": "k-1"})
    assert again.json()["data"] == first.json()["data"]
    assert again.headers["Idempotency-Replayed"] == "true"
    assert "Idempotency-Replayed" not in first.headers
    assert len(sandbox.items(board)) == 1
    assert [r["replayed"] for r in sandbox.requests] == [False, True]
    created_id(create(sandbox, board, "INV-1", headers={"Idempotency-Key": "k-2"}))
    assert len(sandbox.items(board)) == 2


def test_an_idempotency_key_is_forgotten_after_30_minutes(sandbox, board, clock):
    create(sandbox, board, "INV-1", headers={"Idempotency-Key": "k-1"})
    clock.advance(30 * 60 + 1)
    again = create(sandbox, board, "INV-1", headers={"Idempotency-Key": "k-1"})
    assert "Idempotency-Replayed" not in again.headers
    assert len(sandbox.items(board)) == 2


def test_a_request_refused_by_the_budget_does_not_burn_its_idempotency_key(clock):
    sandbox = MondaySandbox(clock=clock, tokens={TOKEN: {}}, budget_per_minute=40_000)
    board = sandbox.finance_board()
    created_id(create(sandbox, board, "A"))
    refused = create(sandbox, board, "B", headers={"Idempotency-Key": "k-b"})
    assert codes(refused) == ["COMPLEXITY_BUDGET_EXHAUSTED"]
    clock.advance(60)
    retried = create(sandbox, board, "B", headers={"Idempotency-Key": "k-b"})
    created_id(retried)
    assert "Idempotency-Replayed" not in retried.headers


def test_a_concurrent_duplicate_gets_409_with_retry_after(sandbox, board, served):
    # The first request holds its key while it sleeps in the sandbox; the second is sent only
    # once the key is claimed, and the sleep is long enough for it to be parsed and validated
    # on a loaded CI machine (0.4 s and a 1 s wait for the claim flaked under load).
    sandbox.latency = 3.0
    headers = {"Authorization": TOKEN, "Idempotency-Key": "k-1"}
    body = {"query": CREATE, "variables": {"board": board, "name": "INV-1"}}
    results = {}

    def first():
        results["first"] = requests.post(served, json=body, headers=headers, timeout=15)

    thread = threading.Thread(target=first)
    thread.start()
    for _ in range(1000):
        if sandbox._idempotency._entries:
            break
        threading.Event().wait(0.01)
    assert sandbox._idempotency._entries, "the first request never claimed its key"
    second = requests.post(served, json=body, headers=headers, timeout=15)
    thread.join()
    assert second.status_code == 409
    assert second.headers["Retry-After"] == "1"
    assert results["first"].status_code == 200
    assert len(sandbox.items(board)) == 1


def test_a_mutation_applied_before_a_timeout_is_replayed_on_retry(sandbox, board, served):
    sandbox.timeout_hang_seconds = 0.5
    sandbox.fail_next(apply_then_timeout=True)
    headers = {"Authorization": TOKEN, "Idempotency-Key": "k-1"}
    body = {"query": CREATE, "variables": {"board": board, "name": "INV-1"}}
    with pytest.raises(requests.Timeout):
        requests.post(served, json=body, headers=headers, timeout=0.2)
    assert len(sandbox.items(board)) == 1
    retried = requests.post(served, json=body, headers=headers, timeout=5)
    assert retried.headers["Idempotency-Replayed"] == "true"
    assert retried.json()["data"]["create_item"]["id"] == sandbox.items(board)[0]["id"]
    assert len(sandbox.items(board)) == 1


def test_a_timed_out_answer_that_is_awaited_anyway_is_a_504(sandbox, board):
    sandbox.timeout_hang_seconds = 0
    sandbox.fail_next(apply_then_timeout=True)
    response = create(sandbox, board, "INV-1")
    assert response.status_code == 504
    assert len(sandbox.items(board)) == 1


# -- fault injection, request log, HTML view -------------------------------------------------


def test_fail_next_answers_http_statuses_and_error_codes_then_recovers(sandbox, board):
    sandbox.fail_next(502)
    sandbox.fail_next(error_code="COMPLEXITY_BUDGET_EXHAUSTED", retry_in_seconds=7)
    sandbox.fail_next(429, retry_in_seconds=3)
    assert create(sandbox, board).status_code == 502
    budget = create(sandbox, board)
    assert budget.status_code == 200
    assert budget.json()["errors"][0]["extensions"]["retry_in_seconds"] == 7
    limited = create(sandbox, board)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")
    assert sandbox.items(board) == []
    created_id(create(sandbox, board))
    assert [r["status"] for r in sandbox.requests] == [502, 200, 429, 200]


def test_every_request_is_logged_with_cost_mutations_status_and_key(sandbox, board):
    create(sandbox, board, headers={"Idempotency-Key": "k-9"})
    gql(sandbox, "{ me { id } }", token="bad")
    logged = sandbox.requests
    assert {k: logged[0][k] for k in ("complexity", "mutations", "status", "idempotency_key")} == {
        "complexity": 30_001,
        "mutations": 1,
        "status": 200,
        "idempotency_key": "k-9",
    }
    assert (logged[1]["status"], logged[1]["complexity"]) == (401, 0)


def test_the_html_view_shows_boards_items_column_texts_and_subitems(sandbox, board):
    parent = created_id(create(sandbox, board, "INV-<1>", {"amount": "12.50"}))
    gql(sandbox, SUBITEM, {"p": parent, "n": "Line & 1", "v": json.dumps({"numbers": "2"})})
    listing = call(sandbox, None, method="GET", path="/", raw=b"")
    assert listing.status_code == 200
    assert f"/boards/{board}" in listing.text and "Finance — invoices" in listing.text
    assert "Subitems of" not in listing.text
    page = call(sandbox, None, method="GET", path=f"/boards/{board}", raw=b"")
    assert page.headers["Content-Type"].startswith("text/html")
    assert "INV-&lt;1&gt;" in page.text and "12.50" in page.text
    assert "Line &amp; 1" in page.text and "Numbers: 2" in page.text
    assert call(sandbox, None, method="GET", path="/boards/42", raw=b"").status_code == 404


def test_the_html_view_links_stay_under_its_mount_point(sandbox, board):
    app = combined_app(lambda environ, start_response: [], sandbox)
    listing = call(app, None, method="GET", path="/monday/", raw=b"")
    assert f"href='/monday/boards/{board}'" in listing.text
    page = call(app, None, method="GET", path=f"/monday/boards/{board}", raw=b"")
    assert "href='/monday/'" in page.text
    assert gql(app, "{ me { id } }", path="/monday/v2").json()["data"]["me"]["id"]
