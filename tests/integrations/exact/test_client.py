from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
import time_machine
from responses import matchers

from integrations.errors import (
    AccessRefused,
    NotFound,
    RateLimited,
    ReconnectRequired,
    RemoteRejected,
    RemoteUnavailable,
    UnexpectedResponse,
)
from integrations.exact.client import ExactClient
from integrations.exact.ratelimit import ErrorBudgetSpent, SharedBudget
from integrations.models import RateBudget
from tests.integrations.exact.conftest import API, BASE
from tests.integrations.exact.rows import fixture

URL = f"{API}/101/salesinvoice/SalesInvoices"
NOW = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)
OK = {"d": {"results": [{"InvoiceID": "x", "AmountFC": 53.9}]}}


def ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def test_every_call_asks_for_json_with_the_bearer_token(mocked_http, make_client):
    mocked_http.get(
        URL,
        json=OK,
        match=[
            matchers.header_matcher({"Accept": "application/json", "Authorization": "Bearer tok-1"})
        ],
    )
    make_client().get("salesinvoice/SalesInvoices", division=101)


def test_amounts_are_parsed_as_decimal_never_float(mocked_http, make_client):
    mocked_http.get(URL, json=OK)
    row = make_client().get("salesinvoice/SalesInvoices", division=101)["d"]["results"][0]
    assert row["AmountFC"] == Decimal("53.9") and isinstance(row["AmountFC"], Decimal)


def test_401_forces_one_refresh_and_retries_once(mocked_http, make_client, tokens):
    mocked_http.get(
        URL, status=401, match=[matchers.header_matcher({"Authorization": "Bearer tok-1"})]
    )
    mocked_http.get(
        URL, json=OK, match=[matchers.header_matcher({"Authorization": "Bearer tok-2"})]
    )
    make_client().get("salesinvoice/SalesInvoices", division=101)
    assert tokens.calls == [False, True]


def test_second_401_after_the_refresh_raises_reconnect_required(mocked_http, make_client, tokens):
    mocked_http.get(URL, status=401)
    mocked_http.get(URL, status=401)
    with pytest.raises(ReconnectRequired):
        make_client().get("salesinvoice/SalesInvoices", division=101)
    assert tokens.calls == [False, True]
    assert len(mocked_http.calls) == 2


def test_401_hands_the_refused_token_back_to_the_token_source(mocked_http, make_client, tokens):
    mocked_http.get(URL, status=401)
    mocked_http.get(URL, json=OK)
    make_client().get("salesinvoice/SalesInvoices", division=101)
    assert tokens.rejected == [None, "tok-1"]  # the source compares it with the stored token


def test_access_refused_by_the_token_source_is_surfaced_in_words_and_never_retried(mocked_http):
    flagged = []

    def token_source(rejected):
        if rejected is not None:  # Exact answered the refresh "too early"
            raise AccessRefused("Refused while valid.", hint="Check the consent.", status=401)
        return "tok-1"

    client = ExactClient(BASE, token_source=token_source, on_token_rejected=flagged.append)
    mocked_http.get(URL, status=401)
    with pytest.raises(AccessRefused) as caught:
        client.get("salesinvoice/SalesInvoices", division=101)
    assert caught.value.message == (
        "Exact Online refused the call to salesinvoice/SalesInvoices (division 101) with HTTP "
        "401 although the access token is still valid."
    )
    assert caught.value.hint == "Check the consent."
    assert len(mocked_http.calls) == 1 and flagged == []  # no retry, no re-authorization


def test_server_errors_are_retried_with_backoff_then_surface_clearly(
    mocked_http, make_client, sleeps
):
    body = fixture("error_unknown_property.json")
    body["error"]["message"]["value"] = "An error occurred"
    for _ in range(4):
        mocked_http.get(URL, status=500, json=body)
    with pytest.raises(RemoteUnavailable) as caught:
        make_client().get("salesinvoice/SalesInvoices", division=101)
    assert len(mocked_http.calls) == 4  # first try + 3 retries
    assert sleeps == [0.75, 1.5, 3.0]  # exponential, jittered (jitter fixed at 0.5)
    assert "HTTP 500" in caught.value.message and "An error occurred" in caught.value.message
    assert caught.value.retryable


def test_server_error_followed_by_success_returns_the_answer(mocked_http, make_client, sleeps):
    mocked_http.get(URL, status=503)
    mocked_http.get(URL, json=OK)
    assert make_client().get("salesinvoice/SalesInvoices", division=101)["d"]
    assert len(sleeps) == 1


def test_timeouts_are_retried_then_raise_remote_unavailable(mocked_http, make_client, sleeps):
    def timeout(request):
        raise requests.ConnectTimeout("timed out")

    mocked_http.add_callback("GET", URL, callback=timeout)
    with pytest.raises(RemoteUnavailable) as caught:
        make_client().get("salesinvoice/SalesInvoices", division=101)
    assert len(mocked_http.calls) == 4 and len(sleeps) == 3
    assert "ConnectTimeout" in caught.value.message


def test_post_is_never_repeated_after_a_server_error(mocked_http, make_client):
    url = f"{API}/101/webhooks/WebhookSubscriptions"
    mocked_http.post(url, status=500, json={"error": {"message": {"value": "Invalid"}}})
    with pytest.raises(RemoteUnavailable):
        make_client().request(
            "POST",
            "webhooks/WebhookSubscriptions",
            division=101,
            json_body={"Topic": "SalesInvoices"},
        )
    assert len(mocked_http.calls) == 1


def test_4xx_is_not_retried_and_carries_exacts_message(mocked_http, make_client, sleeps):
    mocked_http.get(URL, status=400, json=fixture("error_unknown_property.json"))
    with pytest.raises(RemoteRejected) as caught:
        make_client().get("salesinvoice/SalesInvoices", division=101)
    assert len(mocked_http.calls) == 1 and sleeps == []
    assert caught.value.message == (
        "Exact Online answered HTTP 400 on salesinvoice/SalesInvoices: "
        "Filtering on these fields is not supported: Classification1"
    )
    assert not caught.value.retryable


def test_404_is_not_found_and_403_says_to_check_scopes(mocked_http, make_client):
    mocked_http.get(URL, status=404)
    with pytest.raises(NotFound):
        make_client().get("salesinvoice/SalesInvoices", division=101)
    mocked_http.get(
        f"{API}/101/hrm/Costcenters",
        status=403,
        json={"error": {"message": {"value": "Forbidden - Application Scope Violated."}}},
    )
    with pytest.raises(RemoteRejected) as caught:
        make_client().get("hrm/Costcenters", division=101)
    assert "scopes" in caught.value.hint and "Scope Violated" in caught.value.message


def test_errors_never_carry_the_token_or_the_raw_body(mocked_http, make_client):
    mocked_http.get(
        URL,
        status=400,
        json={"error": {"message": {"value": "Bad filter"}}, "debug": "RAW-BODY-SECRET"},
    )
    with pytest.raises(RemoteRejected) as caught:
        make_client().get("salesinvoice/SalesInvoices", division=101)
    text = f"{caught.value} {caught.value.detail}"
    assert "RAW-BODY-SECRET" not in text and "tok-1" not in text and "Bad filter" in text


def test_an_atom_answer_raises_unexpected_response(mocked_http, make_client):
    mocked_http.get(URL, body="<feed/>", content_type="application/atom+xml")
    with pytest.raises(UnexpectedResponse):
        make_client().get("salesinvoice/SalesInvoices", division=101)


def test_iter_pages_follows_next_verbatim(mocked_http, make_client):
    next_url = f"{URL}?$select=InvoiceID&$skiptoken=guid'abc'"
    mocked_http.get(
        URL,
        json={"d": {"results": [{"n": 1}], "__next": next_url}},
        match=[matchers.query_param_matcher({"$select": "InvoiceID"})],
    )
    mocked_http.get(
        URL,
        json={"d": {"results": [{"n": 2}]}},
        match=[matchers.query_param_matcher({"$select": "InvoiceID", "$skiptoken": "guid'abc'"})],
    )
    pages = list(
        make_client().iter_pages(
            "salesinvoice/SalesInvoices", division=101, params={"$select": "InvoiceID"}
        )
    )
    assert pages == [[{"n": 1}], [{"n": 2}]]


def test_a_next_link_to_another_host_is_refused(mocked_http, make_client):
    mocked_http.get(URL, json={"d": {"results": [], "__next": "https://evil.example/steal"}})
    with pytest.raises(UnexpectedResponse):
        list(make_client().iter_pages("salesinvoice/SalesInvoices", division=101))


def test_endpoint_key_ignores_division_key_and_query(make_client):
    client = make_client()
    assert client.endpoint(f"{API}/101/salesinvoice/SalesInvoices(guid'x')?$select=A") == (
        "salesinvoice/SalesInvoices"
    )
    assert client.endpoint(f"{API}/current/Me") == "current/Me"
    assert client.url("current/Me", None) == f"{BASE}/api/v1/current/Me"


# --- the shared budget ------------------------------------------------------------------


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_429_is_waited_out_until_the_minutely_reset(
    db, exact_connection, mocked_http, make_client, sleeps, frozen
):
    reset = NOW + timedelta(seconds=20)
    mocked_http.get(
        URL,
        status=429,
        headers={
            "X-RateLimit-Minutely-Limit": "60",
            "X-RateLimit-Minutely-Remaining": "0",
            "X-RateLimit-Minutely-Reset": ms(reset),
        },
    )
    mocked_http.get(URL, json=OK)

    def sleep(seconds):
        sleeps.append(seconds)
        frozen.shift(seconds)

    client = make_client(budget=SharedBudget(exact_connection.pk), sleep=sleep)
    client.get("salesinvoice/SalesInvoices", division=101)
    assert sleeps == [21.0]  # until the reset, plus a second


def test_a_429_that_keeps_coming_becomes_rate_limited(
    db, exact_connection, mocked_http, make_client, sleeps, frozen
):
    from django.utils import timezone

    def always_429(request):
        reset = timezone.now() + timedelta(seconds=30)
        return (
            429,
            {"X-RateLimit-Minutely-Remaining": "0", "X-RateLimit-Minutely-Reset": ms(reset)},
            "",
        )

    mocked_http.add_callback("GET", URL, callback=always_429)

    def sleep(seconds):
        sleeps.append(seconds)
        frozen.shift(seconds)

    client = make_client(budget=SharedBudget(exact_connection.pk), sleep=sleep)
    with pytest.raises(RateLimited) as caught:
        client.get("salesinvoice/SalesInvoices", division=101)
    assert caught.value.retry_after == 31.0
    assert len(mocked_http.calls) == 4  # the first try and three waits
    assert sleeps == [31.0, 31.0, 31.0]


def test_budget_waits_before_the_minutely_limit_is_hit(
    db, exact_connection, mocked_http, make_client, sleeps, frozen
):
    reset = NOW + timedelta(seconds=30)
    for remaining in ("3", "2"):
        mocked_http.get(
            URL,
            json=OK,
            headers={
                "X-RateLimit-Minutely-Limit": "60",
                "X-RateLimit-Minutely-Remaining": remaining,
                "X-RateLimit-Minutely-Reset": ms(reset),
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "4000",
                "X-RateLimit-Reset": ms(NOW + timedelta(hours=5)),
            },
        )
    mocked_http.get(URL, json=OK)

    def sleep(seconds):
        sleeps.append(seconds)
        frozen.shift(seconds)

    client = make_client(budget=SharedBudget(exact_connection.pk), sleep=sleep)
    client.get("salesinvoice/SalesInvoices", division=101)
    client.get("salesinvoice/SalesInvoices", division=101)
    assert sleeps == []
    client.get("salesinvoice/SalesInvoices", division=101)  # 2 left: keep them, wait
    assert sleeps == [31.0]
    assert len(mocked_http.calls) == 3


def test_low_priority_work_waits_when_the_daily_budget_runs_low(
    db, exact_connection, mocked_http, make_client, frozen
):
    RateBudget.objects.create(
        connection=exact_connection,
        division=101,
        daily_limit=5000,
        daily_remaining=400,
        daily_reset_at=NOW + timedelta(hours=3),
    )
    client = make_client(budget=SharedBudget(exact_connection.pk))
    with pytest.raises(RateLimited) as caught:
        client.list_gl_accounts(101)
    assert caught.value.retry_after == 3 * 3600
    assert len(mocked_http.calls) == 0
    mocked_http.get(URL, json=OK)
    client.get("salesinvoice/SalesInvoices", division=101)  # normal work still runs


def test_a_429_on_the_daily_limit_parks_the_division_until_the_daily_reset(
    db, exact_connection, mocked_http, make_client, frozen
):
    mocked_http.get(
        URL,
        status=429,
        headers={
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": ms(NOW + timedelta(hours=4)),
        },
    )
    client = make_client(budget=SharedBudget(exact_connection.pk))
    with pytest.raises(RateLimited) as caught:
        client.get("salesinvoice/SalesInvoices", division=101)
    assert caught.value.retry_after > 3600
    with pytest.raises(RateLimited):  # later calls are refused before sending
        client.get("salesinvoice/SalesInvoices", division=101)
    assert len(mocked_http.calls) == 1


def test_after_eight_error_answers_the_endpoint_is_not_called_again(
    db, exact_connection, mocked_http, make_client, frozen
):
    mocked_http.get(URL, status=404)
    client = make_client(budget=SharedBudget(exact_connection.pk))
    for _ in range(8):
        with pytest.raises(NotFound):
            client.get("salesinvoice/SalesInvoices", division=101)
    with pytest.raises(ErrorBudgetSpent) as caught:
        client.get("salesinvoice/SalesInvoices", division=101)
    assert len(mocked_http.calls) == 8
    assert caught.value.retry_after == 3600
    counts = RateBudget.objects.get(connection=exact_connection, division=101).error_counts
    assert counts["salesinvoice/SalesInvoices"]["count"] == 8
    # Another endpoint is unaffected, and the hour passes.
    mocked_http.get(f"{API}/101/hrm/Costcenters", json={"d": {"results": []}})
    client.get("hrm/Costcenters", division=101)
    frozen.shift(3601)
    mocked_http.get(URL, json=OK)
    client.get("salesinvoice/SalesInvoices", division=101)


def test_401_answers_count_toward_the_error_budget(
    db, exact_connection, mocked_http, make_client, frozen
):
    mocked_http.get(URL, status=401)
    mocked_http.get(URL, json=OK)
    make_client(budget=SharedBudget(exact_connection.pk)).get(
        "salesinvoice/SalesInvoices", division=101
    )
    counts = RateBudget.objects.get(connection=exact_connection, division=101).error_counts
    assert counts["salesinvoice/SalesInvoices"]["count"] == 1


def test_the_factory_picks_the_sandbox_or_the_regional_host(db, settings):
    from integrations.exact.client import base_url_for
    from integrations.exact.connections import for_connection
    from tests import factories

    settings.INTEGRATIONS_MODE, settings.SANDBOX_URL = "sandbox", "http://127.0.0.1:8001"
    assert base_url_for("be") == "http://127.0.0.1:8001/exact"
    assert for_connection(factories.make_exact_connection(base_url="")).base_url == (
        "http://127.0.0.1:8001/exact"
    )
    settings.INTEGRATIONS_MODE = "live"
    assert base_url_for("be") == "https://start.exactonline.be"
    assert base_url_for("co.uk") == "https://start.exactonline.co.uk"
    settings.EXACT_BASE_URL = "https://start.exactonline.nl"
    assert base_url_for("nl") == "https://start.exactonline.nl"
