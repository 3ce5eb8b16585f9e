"""MondayClient: what it sends, and each way Monday answers mapped to one typed error."""

from __future__ import annotations

import json

import pytest
import requests
from responses import matchers

from integrations.errors import RateLimited, UnexpectedResponse
from integrations.monday import queries
from integrations.monday.client import API_VERSION, MondayClient, for_connection
from integrations.monday.errors import (
    BudgetExhausted,
    ComplexityExceeded,
    DailyLimitExceeded,
    MinuteRateLimited,
    MondayAuthError,
    MondayColumnError,
    MondayConflict,
    MondayNotFound,
    MondayPermissionDenied,
    MondayRejected,
    MondayServerError,
)
from tests.factories import MONDAY_TOKEN

URL = "https://api.monday.test/v2"
COMPLEXITY = {"before": 10_000_000, "after": 9_969_999, "query": 30_001, "reset_in_x_seconds": 60}


def make_client(**kw) -> tuple[MondayClient, list[float]]:
    slept: list[float] = []
    client = MondayClient(token=MONDAY_TOKEN, api_url=URL, sleep=slept.append)
    for name, value in kw.items():
        setattr(client, name, value)
    return client, slept


def gql_error(code, message="Boom", *, legacy=False, path=None, **ext):
    if legacy:
        return {"error_code": code, "error_message": message, "status_code": 200, **ext}
    err = {"message": message, "extensions": {"code": code, "request_id": "req-1", **ext}}
    if path:
        err["path"] = path
    return {"data": None, "errors": [err]}


def test_execute_posts_query_and_variables_as_json_with_pinned_headers(mocked_http):
    mocked_http.post(
        URL,
        json={"data": {"me": {"id": "1"}, "complexity": COMPLEXITY}},
        match=[
            matchers.json_params_matcher(
                {"query": queries.ME, "variables": {"x": 'a "quoted" value'}}
            ),
            matchers.header_matcher(
                {
                    "Authorization": MONDAY_TOKEN,
                    "API-Version": API_VERSION,
                    "Content-Type": "application/json",
                    "Idempotency-Key": "key-1",
                }
            ),
        ],
    )
    client, _ = make_client()
    data = client.execute(queries.ME, {"x": 'a "quoted" value'}, idempotency_key="key-1")
    assert data["me"] == {"id": "1"}
    assert client.last_complexity == COMPLEXITY
    assert (client.stats.requests, client.stats.max_query_complexity) == (1, 30_001)
    assert client.stats.total_complexity == 30_001


def test_no_idempotency_key_header_is_sent_without_a_key(mocked_http):
    mocked_http.post(URL, json={"data": {"me": None}})
    make_client()[0].execute(queries.ME)
    assert "Idempotency-Key" not in mocked_http.calls[0].request.headers


def test_api_version_constant_names_a_quarterly_version_and_the_schema_file():
    import inspect

    import integrations.monday.client as module

    assert len(API_VERSION) == 7 and API_VERSION[4] == "-"
    assert "schema.graphql" in inspect.getsource(module).split("API_VERSION =")[0][-400:]


CASES = [
    # (id, status, body, headers, class, code, retry_after)
    (
        "unauthenticated-200",
        200,
        gql_error("UNAUTHENTICATED", "Not Authenticated"),
        {},
        MondayAuthError,
        "UNAUTHENTICATED",
        None,
    ),
    ("http-401-no-body", 401, None, {}, MondayAuthError, "", None),
    (
        "http-401-errors",
        401,
        gql_error("UNAUTHENTICATED", "Not Authenticated"),
        {},
        MondayAuthError,
        "UNAUTHENTICATED",
        None,
    ),
    (
        "forbidden",
        403,
        gql_error("UserUnauthorizedException", "User unauthorized"),
        {},
        MondayPermissionDenied,
        "UserUnauthorizedException",
        None,
    ),
    (
        "not-found",
        200,
        gql_error("ResourceNotFoundException"),
        {},
        MondayNotFound,
        "ResourceNotFoundException",
        None,
    ),
    (
        "invalid-board",
        200,
        gql_error("InvalidBoardIdException"),
        {},
        MondayNotFound,
        "InvalidBoardIdException",
        None,
    ),
    (
        "legacy-invalid-item",
        200,
        gql_error("InvalidItemIdException", legacy=True),
        {},
        MondayNotFound,
        "InvalidItemIdException",
        None,
    ),
    ("http-404", 404, None, {}, MondayNotFound, "", None),
    (
        "invalid-column",
        200,
        gql_error("InvalidColumnIdException", "This column ID doesn't exist for the board"),
        {},
        MondayColumnError,
        "InvalidColumnIdException",
        None,
    ),
    (
        "column-value",
        200,
        gql_error("ColumnValueException", "label does not exist in column"),
        {},
        MondayColumnError,
        "ColumnValueException",
        None,
    ),
    (
        "name-too-long",
        200,
        gql_error("ItemNameTooLongException"),
        {},
        MondayRejected,
        "ItemNameTooLongException",
        None,
    ),
    (
        "validation-400",
        400,
        gql_error("GRAPHQL_VALIDATION_FAILED", "Field 'x' doesn't exist"),
        {},
        MondayRejected,
        "GRAPHQL_VALIDATION_FAILED",
        None,
    ),
    (
        "max-complexity",
        200,
        gql_error("REQUEST_MAX_COMPLEXITY_EXCEEDED"),
        {},
        ComplexityExceeded,
        "REQUEST_MAX_COMPLEXITY_EXCEEDED",
        None,
    ),
    (
        "legacy-max-complexity",
        200,
        gql_error(
            "ComplexityException",
            "Query has complexity of 6000000, which exceeds max complexity of 5000000",
            legacy=True,
        ),
        {},
        ComplexityExceeded,
        "ComplexityException",
        None,
    ),
    (
        "budget",
        200,
        gql_error(
            "COMPLEXITY_BUDGET_EXHAUSTED", "Complexity budget exhausted", retry_in_seconds=17
        ),
        {},
        BudgetExhausted,
        "COMPLEXITY_BUDGET_EXHAUSTED",
        17.0,
    ),
    (
        "legacy-budget",
        200,
        gql_error(
            "ComplexityException",
            "Complexity budget exhausted, query cost 30001 budget remaining 3177 out of 1000000 reset in 54 seconds",
            legacy=True,
        ),
        {},
        BudgetExhausted,
        "ComplexityException",
        54.0,
    ),
    (
        "minute-limit",
        429,
        gql_error("RATE_LIMIT_EXCEEDED", "Minute limit rate exceeded"),
        {"Retry-After": "7"},
        MinuteRateLimited,
        "RATE_LIMIT_EXCEEDED",
        7.0,
    ),
    ("http-429-no-body", 429, None, {"Retry-After": "9"}, MinuteRateLimited, "", 9.0),
    (
        "daily",
        200,
        gql_error("DAILY_LIMIT_EXCEEDED", "Daily limit exceeded"),
        {},
        DailyLimitExceeded,
        "DAILY_LIMIT_EXCEEDED",
        3600.0,
    ),
    (
        "legacy-daily",
        429,
        gql_error("DailyLimitExceeded", legacy=True),
        {},
        DailyLimitExceeded,
        "DailyLimitExceeded",
        3600.0,
    ),
    (
        "conflict-409",
        409,
        {
            "error_message": "A request with this key is in progress",
            "error_code": "IdempotencyConflict",
        },
        {"Retry-After": "2"},
        MondayConflict,
        "IdempotencyConflict",
        2.0,
    ),
    (
        "server-500",
        500,
        {"error_message": "Internal server error", "status_code": 500},
        {},
        MondayServerError,
        "",
        None,
    ),
    ("server-502-html", 502, "<html>bad gateway</html>", {}, MondayServerError, "", None),
    (
        "server-error-code",
        200,
        gql_error("INTERNAL_SERVER_ERROR"),
        {},
        MondayServerError,
        "INTERNAL_SERVER_ERROR",
        None,
    ),
]


@pytest.mark.parametrize(
    ("status", "body", "headers", "cls", "code", "retry_after"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_each_monday_error_maps_to_its_typed_exception(
    mocked_http, status, body, headers, cls, code, retry_after
):
    kwargs = {"body": body} if isinstance(body, str) else {"json": body} if body else {}
    mocked_http.post(URL, status=status, headers=headers, **kwargs)
    client, slept = make_client(max_rate_waits=0, max_server_retries=0)
    with pytest.raises(cls) as info:
        client.execute(queries.ME)
    err = info.value
    assert type(err) is cls
    assert err.code == code
    assert MONDAY_TOKEN not in str(err)
    if body and isinstance(body, dict) and "errors" in body:
        assert err.message == body["errors"][0]["message"]  # Monday's own words
        assert err.request_id == "req-1"
    if retry_after is not None:
        assert isinstance(err, RateLimited) and err.retry_after == retry_after
    assert slept == []


def test_column_error_carries_column_id_and_label_from_error_data(mocked_http):
    body = gql_error(
        "ColumnValueException",
        "label does not exist in column",
        error_data={"column_id": "cost_center", "column_value": '{"labels":["KP-410"]}'},
    )
    mocked_http.post(URL, json=body)
    with pytest.raises(MondayColumnError) as info:
        make_client()[0].execute(queries.CREATE_ITEM, {"board_id": "1", "item_name": "x"})
    assert (info.value.column_id, info.value.label) == ("cost_center", "KP-410")
    assert (
        info.value.admin_message("Cost center")
        == "The Monday.com column “Cost center” has no label “KP-410”. Choose one of its labels in the mapping, or allow new labels on the route."
    )


def test_a_non_json_200_is_an_unexpected_response(mocked_http):
    mocked_http.post(URL, body="<html>login</html>")
    with pytest.raises(UnexpectedResponse):
        make_client()[0].execute(queries.ME)


def test_budget_exhausted_is_waited_out_for_retry_in_seconds_then_succeeds(mocked_http):
    mocked_http.post(URL, json=gql_error("COMPLEXITY_BUDGET_EXHAUSTED", retry_in_seconds=23))
    mocked_http.post(URL, json={"data": {"me": {"id": "1"}}})
    client, slept = make_client()
    assert client.execute(queries.ME) == {"me": {"id": "1"}}
    assert slept == [23.0]
    assert client.stats.rate_limit_waits == 1


def test_minute_rate_limit_waits_retry_after_header(mocked_http):
    mocked_http.post(
        URL, status=429, headers={"Retry-After": "5"}, json=gql_error("RATE_LIMIT_EXCEEDED")
    )
    mocked_http.post(URL, json={"data": {"me": None}})
    client, slept = make_client()
    client.execute(queries.ME)
    assert slept == [5.0]


def test_rate_limit_waits_are_bounded(mocked_http):
    for _ in range(3):
        mocked_http.post(URL, json=gql_error("COMPLEXITY_BUDGET_EXHAUSTED", retry_in_seconds=1))
    client, slept = make_client(max_rate_waits=2)
    with pytest.raises(BudgetExhausted):
        client.execute(queries.ME)
    assert slept == [1.0, 1.0]


def test_daily_limit_is_raised_at_once_without_sleeping(mocked_http):
    mocked_http.post(URL, json=gql_error("DAILY_LIMIT_EXCEEDED"))
    client, slept = make_client()
    with pytest.raises(DailyLimitExceeded):
        client.execute(queries.ME)
    assert slept == []


def test_queries_are_retried_after_5xx_with_bounded_backoff(mocked_http):
    for _ in range(3):
        mocked_http.post(URL, status=503, body="unavailable")
    mocked_http.post(URL, json={"data": {"me": None}})
    client, slept = make_client()
    client.execute(queries.ME)
    assert slept == [1.0, 2.0, 4.0]


def test_5xx_retries_stop_after_the_bound(mocked_http):
    for _ in range(4):
        mocked_http.post(URL, status=500, json={})
    client, slept = make_client()
    with pytest.raises(MondayServerError):
        client.execute(queries.ME)
    assert len(slept) == client.max_server_retries


def test_a_timeout_is_a_server_error_and_a_keyless_mutation_is_not_resent(mocked_http):
    mocked_http.post(URL, body=requests.exceptions.ReadTimeout("slow"))
    client, slept = make_client()
    with pytest.raises(MondayServerError, match="did not answer in time"):
        client.execute(queries.CREATE_ITEM, {"board_id": "1", "item_name": "x"})
    assert len(mocked_http.calls) == 1 and slept == []


def test_a_timed_out_mutation_with_a_key_is_resent_with_the_same_key(mocked_http):
    mocked_http.post(URL, body=requests.exceptions.ConnectionError("reset"))
    mocked_http.post(
        URL,
        json={"data": {"create_item": {"id": "9"}}},
        headers={"Idempotency-Replayed": "true"},
    )
    client, _ = make_client()
    result = client.execute_partial(
        queries.CREATE_ITEM, {"board_id": "1", "item_name": "x"}, idempotency_key="k-7"
    )
    assert result.data == {"create_item": {"id": "9"}} and result.replayed
    keys = [c.request.headers["Idempotency-Key"] for c in mocked_http.calls]
    assert keys == ["k-7", "k-7"]


def test_alias_errors_come_back_with_the_partial_data(mocked_http):
    body = {
        "data": {"m0": {"id": "1"}, "m1": None},
        "errors": [
            {
                "message": "label does not exist in column",
                "path": ["m1"],
                "extensions": {
                    "code": "ColumnValueException",
                    "error_data": {"column_id": "status", "label": "KP-410"},
                },
            }
        ],
    }
    mocked_http.post(URL, json=body)
    mocked_http.post(URL, json=body)
    client, _ = make_client()
    result = client.execute_partial("mutation { m0: x m1: y }")
    assert result.data["m0"] == {"id": "1"}
    (err,) = result.alias_errors
    assert isinstance(err, MondayColumnError) and err.alias == "m1" and err.label == "KP-410"
    with pytest.raises(MondayColumnError):
        client.execute("mutation { m0: x m1: y }")


def test_a_rate_limit_error_with_a_path_still_concerns_the_whole_request(mocked_http):
    body = gql_error("COMPLEXITY_BUDGET_EXHAUSTED", retry_in_seconds=3, path=["m0"])
    body["data"] = {"m0": None}
    mocked_http.post(URL, json=body)
    mocked_http.post(URL, json={"data": {"m0": {"id": "1"}}})
    client, slept = make_client()
    assert client.execute_partial("mutation { m0: x }", idempotency_key="k").data == {
        "m0": {"id": "1"}
    }
    assert slept == [3.0]


@pytest.mark.django_db
def test_for_connection_uses_the_connections_url_or_the_setting(settings, monday_connection):
    assert for_connection(monday_connection).api_url == "https://api.monday.com/v2"
    monday_connection.api_url = ""
    settings.MONDAY_API_URL = "http://127.0.0.1:9/v2"
    client = for_connection(monday_connection)
    assert client.api_url == "http://127.0.0.1:9/v2"
    assert MONDAY_TOKEN not in repr(client)


@pytest.mark.django_db
def test_sandbox_mode_without_a_url_goes_to_the_local_sandbox(settings, monday_connection):
    monday_connection.api_url = ""
    settings.INTEGRATIONS_MODE = "sandbox"
    settings.MONDAY_API_URL = "https://api.monday.com/v2"
    settings.SANDBOX_URL = "http://127.0.0.1:8001"
    assert for_connection(monday_connection).api_url == "http://127.0.0.1:8001/monday/v2"
    settings.INTEGRATIONS_MODE = "live"
    assert for_connection(monday_connection).api_url == "https://api.monday.com/v2"


def test_variables_are_never_pasted_into_the_document(mocked_http):
    mocked_http.post(URL, json={"data": {"create_item": {"id": "1"}}})
    name = 'Invoice "7" } mutation { delete_board'
    make_client()[0].execute(queries.CREATE_ITEM, {"board_id": "1", "item_name": name})
    sent = json.loads(mocked_http.calls[0].request.body)
    assert name not in sent["query"] and sent["variables"]["item_name"] == name


def test_no_token_reaches_the_logs_through_waits_retries_and_errors(mocked_http, caplog):
    caplog.set_level("DEBUG")
    mocked_http.post(URL, json=gql_error("COMPLEXITY_BUDGET_EXHAUSTED", retry_in_seconds=1))
    mocked_http.post(URL, status=502, body="bad gateway")
    mocked_http.post(URL, status=401, json=gql_error("UNAUTHENTICATED"))
    client, _ = make_client()
    with pytest.raises(MondayAuthError):
        client.execute(queries.ME)
    assert caplog.records  # the waits were logged...
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert MONDAY_TOKEN not in logged  # ...without the token
