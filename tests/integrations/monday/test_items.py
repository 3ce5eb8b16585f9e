"""upsert_items / sync_subitems against a scripted Monday (responses callbacks)."""

from __future__ import annotations

import json
import re

import pytest

from integrations.errors import RemoteUnavailable
from integrations.monday.client import MondayClient
from integrations.monday.errors import MondayAuthError, MondayColumnError
from integrations.monday.items import (
    ItemWrite,
    SubitemWrite,
    idempotency_key_for,
    sync_subitems,
    upsert_items,
)

URL = "https://api.monday.test/v2"
ALIAS = re.compile(r"(m\d+): (\w+)\(")


def client() -> MondayClient:
    return MondayClient(token="t", api_url=URL, sleep=lambda s: None)


def write(ref: str, **kw) -> ItemWrite:
    fields = dict(
        ref=ref,
        board_id="100",
        group_id="topics",
        name=f"Invoice {ref}",
        column_values={"exact_key": ref, "status": {"label": "Open"}},
    )
    fields.update(kw)
    return ItemWrite(**fields)


class FakeMonday:
    """Answers aliased mutations with new ids; `reject` maps alias index -> error extension."""

    def __init__(self):
        self.next_id = 1000
        self.requests: list[dict] = []
        self.reject: dict[str, dict] = {}

    def __call__(self, request):
        body = json.loads(request.body)
        self.requests.append({**body, "headers": dict(request.headers)})
        query = body["query"]
        if query.lstrip().startswith("query"):
            return 200, {}, json.dumps(self.answer_query(body))
        data, errors = {}, []
        for alias, field in ALIAS.findall(query):
            ref = body["variables"].get(f"{alias}_item_name") or alias
            if ref in self.reject:
                data[alias] = None
                errors.append(
                    {
                        "message": self.reject[ref]["message"],
                        "path": [alias],
                        "extensions": self.reject[ref]["ext"],
                    }
                )
                continue
            if field == "change_multiple_column_values":
                data[alias] = {"id": body["variables"][f"{alias}_item_id"]}
            else:
                self.next_id += 1
                data[alias] = {
                    "id": str(self.next_id),
                    **({"board": {"id": "900"}} if field == "create_subitem" else {}),
                }
        data["complexity"] = {
            "before": 1,
            "after": 1,
            "query": 30_001 * len(data),
            "reset_in_x_seconds": 60,
        }
        out = {"data": data}
        if errors:
            out["errors"] = errors
        return 200, {}, json.dumps(out)

    existing: dict[str, str] = {}
    subitems: list[dict] = []

    def answer_query(self, body):
        if "items_page_by_column_values" in body["query"]:
            values = body["variables"]["values"]
            items = [
                {"id": item_id, "name": key, "column_values": [{"id": "exact_key", "text": key}]}
                for key, item_id in self.existing.items()
                if key in values
            ]
            return {"data": {"items_page_by_column_values": {"cursor": None, "items": items}}}
        if "subitems" in body["query"]:
            return {
                "data": {"items": [{"id": "1", "board": {"id": "100"}, "subitems": self.subitems}]}
            }
        if "BoardsById" in body["query"]:
            columns = [{"id": "status", "title": "Status", "type": "status", "settings_str": "{}"}]
            return {"data": {"boards": [{"id": "100", "name": "B", "columns": columns}]}}
        raise AssertionError("unexpected query")


@pytest.fixture
def monday(mocked_http):
    fake = FakeMonday()
    fake.existing = {}
    fake.subitems = []
    mocked_http.add_callback("POST", URL, callback=fake)
    mocked_http.assert_all_requests_are_fired = False
    return fake


def test_new_items_are_created_in_one_aliased_request_with_results_in_order(monday):
    results = upsert_items(client(), [write("a"), write("b"), write("c")])
    assert [(r.ref, r.created, r.error) for r in results] == [
        ("a", True, None),
        ("b", True, None),
        ("c", True, None),
    ]
    assert len({r.item_id for r in results}) == 3
    (request,) = monday.requests
    assert request["query"].count("create_item(") == 3
    # column_values is a JSON string, encoded once.
    assert json.loads(request["variables"]["m0_column_values"]) == {
        "exact_key": "a",
        "status": {"label": "Open"},
    }
    assert request["headers"]["Idempotency-Key"].startswith("mlc-")


def test_a_write_with_an_item_id_updates_that_item(monday):
    (result,) = upsert_items(client(), [write("a", item_id="555")])
    assert (result.item_id, result.created) == ("555", False)
    assert "change_multiple_column_values(" in monday.requests[0]["query"]
    assert monday.requests[0]["variables"]["m0_item_id"] == "555"


def test_an_item_found_by_its_exact_key_is_updated_not_duplicated(monday):
    monday.existing = {"a": "777"}
    results = upsert_items(
        client(),
        [
            write("a", key_column_id="exact_key", key_value="a"),
            write("b", key_column_id="exact_key", key_value="b"),
        ],
    )
    assert [(r.item_id, r.created) for r in results] == [("777", False), (results[1].item_id, True)]
    lookup, mutation = monday.requests
    assert lookup["variables"]["values"] == ["a", "b"]  # one lookup for the whole batch
    assert (
        "change_multiple_column_values(" in mutation["query"]
        and mutation["query"].count("create_item(") == 1
    )


def test_one_rejected_alias_leaves_the_others_written_and_carries_mondays_message(monday):
    monday.reject = {
        "Invoice b": {
            "message": "label does not exist in column",
            "ext": {"code": "ColumnValueException", "error_data": {"column_id": "status"}},
        }
    }
    results = upsert_items(
        client(),
        [write("a"), write("b", column_values={"status": {"label": "KP-410"}}), write("c")],
    )
    assert [r.error is None for r in results] == [True, False, True]
    err = results[1].error
    assert isinstance(err, MondayColumnError) and err.message == "label does not exist in column"
    assert (
        err.admin_message("Status")
        == "The Monday.com column “Status” has no label “KP-410”. Choose one of its labels in the mapping, or allow new labels on the route."
    )
    # The admin reads a sentence with the column's title, fetched from the board once.
    assert (
        str(err)
        == "The Monday.com column “Status” has no label “KP-410”. Choose one of its labels in the mapping, or allow new labels on the route."
    )
    mutations = [r for r in monday.requests if r["query"].startswith("mutation")]
    assert len(mutations) == 1  # a non-retryable alias error is not resent


def test_only_the_alias_with_a_retryable_error_is_resent(monday):
    monday.reject = {
        "Invoice b": {"message": "Internal error", "ext": {"code": "INTERNAL_SERVER_ERROR"}}
    }
    original = monday.__call__

    def heal_after_first(request):
        answer = original(request)
        monday.reject = {}
        return answer

    monday_calls = heal_after_first
    results = upsert_items_with(monday_calls, [write("a"), write("b")])
    assert all(r.error is None for r in results)
    assert monday.requests[1]["query"].count("create_item(") == 1
    assert monday.requests[1]["variables"]["m0_item_name"] == "Invoice b"


def upsert_items_with(callback, writes):
    import responses

    with responses.RequestsMock() as rsps:
        rsps.add_callback("POST", URL, callback=callback)
        return upsert_items(client(), writes)


def test_a_batch_over_the_complexity_ceiling_is_split_in_two(mocked_http):
    calls = []

    def answer(request):
        body = json.loads(request.body)
        aliases = ALIAS.findall(body["query"])
        calls.append(len(aliases))
        if len(aliases) > 2:
            return (
                200,
                {},
                json.dumps(
                    {
                        "errors": [
                            {
                                "message": "Query exceeds max complexity",
                                "extensions": {"code": "REQUEST_MAX_COMPLEXITY_EXCEEDED"},
                            }
                        ]
                    }
                ),
            )
        return (
            200,
            {},
            json.dumps({"data": {a: {"id": str(i)} for i, (a, _) in enumerate(aliases)}}),
        )

    mocked_http.add_callback("POST", URL, callback=answer)
    results = upsert_items(client(), [write(str(i)) for i in range(4)])
    assert all(r.error is None for r in results)
    assert calls == [4, 2, 2]


def test_writes_are_packed_into_few_requests(monday):
    results = upsert_items(
        client(), [write(str(i)) for i in range(120)], max_aliases=50, ceiling=2_000_000
    )
    assert len(results) == 120 and all(r.error is None for r in results)
    assert [r["query"].count("create_item(") for r in monday.requests] == [50, 50, 20]


def test_a_server_error_that_outlasts_the_retries_comes_back_per_write(mocked_http):
    mocked_http.post(URL, status=503, body="down")
    c = client()
    c.max_server_retries = 1
    results = upsert_items(c, [write("a"), write("b")])
    assert all(isinstance(r.error, RemoteUnavailable) for r in results)
    assert all(r.error.retryable for r in results)


def test_a_rejected_token_is_raised_for_the_service_to_mark_the_connection(mocked_http):
    mocked_http.post(
        URL,
        status=401,
        json={
            "errors": [{"message": "Not Authenticated", "extensions": {"code": "UNAUTHENTICATED"}}]
        },
    )
    with pytest.raises(MondayAuthError):
        upsert_items(client(), [write("a")])


def test_two_writes_of_one_record_create_one_item(monday):
    writes = [write("a1", key_value="K"), write("a2", key_value="K"), write("a3", key_value="K")]
    results = upsert_items(client(), writes)
    assert results[0].item_id == results[1].item_id == results[2].item_id
    assert [r.created for r in results] == [False, False, True]
    assert monday.requests[0]["query"].count("create_item(") == 1


def test_the_same_content_gives_the_same_idempotency_key():
    assert idempotency_key_for(3, "abc", "h1") == idempotency_key_for(3, "abc", "h1")
    assert idempotency_key_for(3, "abc", "h1") != idempotency_key_for(3, "abc", "h2")
    assert idempotency_key_for(3, "abc", "h1") != idempotency_key_for(4, "abc", "h1")


def test_a_retried_batch_sends_the_same_request_key(monday):
    upsert_items(client(), [write("a", idempotency_key="k-a"), write("b", idempotency_key="k-b")])
    upsert_items(client(), [write("a", idempotency_key="k-a"), write("b", idempotency_key="k-b")])
    keys = [r["headers"]["Idempotency-Key"] for r in monday.requests]
    assert keys[0] == keys[1]


def line(ref, **kw):
    return SubitemWrite(
        ref=ref,
        name=f"Line {ref}",
        column_values={"line_key": ref},
        key_column_id="line_key",
        key_value=ref,
        **kw,
    )


def test_the_first_subitem_on_a_board_without_subitems_is_created_alone(monday):
    results = sync_subitems(client(), "1", [line("L1"), line("L2"), line("L3")])
    assert all(r.created and r.error is None for r in results)
    mutations = [r for r in monday.requests if r["query"].lstrip().startswith("mutation")]
    assert [m["query"].count("create_subitem(") for m in mutations] == [1, 2]


def test_subitems_are_matched_by_line_key_updated_added_and_removed_ones_never_created(monday):
    monday.subitems = [
        {
            "id": "501",
            "name": "Line L1",
            "board": {"id": "900"},
            "column_values": [{"id": "line_key", "text": "L1"}],
        }
    ]
    results = sync_subitems(client(), "1", [line("L1"), line("L2"), line("L9", removed=True)])
    assert [(r.item_id, r.created) for r in results][0] == ("501", False)
    assert results[1].created and results[2].item_id is None and results[2].error is None
    (mutation,) = [r for r in monday.requests if r["query"].lstrip().startswith("mutation")]
    assert mutation["query"].count("create_subitem(") == 1
    # The update (L1, alias m0) goes to the subitem board.
    assert mutation["variables"]["m0_board_id"] == "900"
    assert mutation["variables"]["m0_item_id"] == "501"


def test_a_request_level_limit_that_outlasts_the_waits_is_not_resent_again(mocked_http):
    mocked_http.post(
        URL,
        json={
            "errors": [
                {"message": "Daily limit exceeded", "extensions": {"code": "DAILY_LIMIT_EXCEEDED"}}
            ]
        },
    )
    results = upsert_items(client(), [write("a"), write("b")])
    assert all(r.error is not None and r.error.code == "DAILY_LIMIT_EXCEEDED" for r in results)
    assert len(mocked_http.calls) == 1
