from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from integrations.errors import RateLimited
from integrations.exact.ratelimit import MINUTELY_MARGIN, SharedBudget
from integrations.models import RateBudget

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 25, 10, 0, 15, tzinfo=UTC)
RESET = datetime(2026, 11, 25, 10, 1, tzinfo=UTC)


def headers(remaining: int, reset: datetime = RESET, **extra) -> dict:
    return {
        "X-RateLimit-Minutely-Limit": "60",
        "X-RateLimit-Minutely-Remaining": str(remaining),
        "X-RateLimit-Minutely-Reset": str(int(reset.timestamp() * 1000)),
        **extra,
    }


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_two_processes_share_one_company_budget(exact_connection, frozen):
    first, second = SharedBudget(exact_connection.pk), SharedBudget(exact_connection.pk)
    first.record_response(101, "e", 200, headers(7))
    granted = 0
    for budget in [first, second] * 5:
        if budget.acquire(101, "e") == 0:
            granted += 1
    assert granted == 7 - MINUTELY_MARGIN
    assert second.acquire(101, "e") == 46.0  # until 10:01:00, plus a second


def test_headers_never_raise_our_reserved_count_within_a_window(exact_connection, frozen):
    budget = SharedBudget(exact_connection.pk)
    budget.record_response(101, "e", 200, headers(10))
    for _ in range(4):
        budget.acquire(101, "e")
    budget.record_response(101, "e", 200, headers(9))  # an answer to an early call
    assert budget.state(101).minutely_remaining == 6


def test_a_new_window_starts_from_the_headers(exact_connection, frozen):
    budget = SharedBudget(exact_connection.pk)
    budget.record_response(101, "e", 200, headers(3))
    frozen.shift(60)
    assert budget.state(101).minutely_remaining is None  # the old window is over
    assert budget.acquire(101, "e") == 0
    budget.record_response(101, "e", 200, headers(58, RESET + timedelta(minutes=1)))
    assert budget.state(101).minutely_remaining == 58


def test_divisions_have_separate_budgets(exact_connection, frozen):
    budget = SharedBudget(exact_connection.pk)
    budget.record_response(101, "e", 200, headers(0))
    assert budget.acquire(101, "e") > 0
    assert budget.acquire(102, "e") == 0


def test_calls_without_a_division_take_no_slot_but_their_errors_count(exact_connection, frozen):
    budget = SharedBudget(exact_connection.pk)
    for _ in range(8):
        assert budget.acquire(None, "current/Me") == 0
        budget.record_response(None, "current/Me", 401, {})
    with pytest.raises(RateLimited):
        budget.acquire(None, "current/Me")
    assert RateBudget.objects.get(division=0).minutely_remaining is None


def test_429_and_5xx_do_not_count_as_error_answers(exact_connection, frozen):
    budget = SharedBudget(exact_connection.pk)
    for status in (429, 500, 503, 409):
        budget.record_response(101, "e", status, headers(0))
    assert RateBudget.objects.get(division=101).error_counts == {}


def test_a_refused_filter_is_remembered_for_every_process_for_seven_days(exact_connection, frozen):
    endpoint = "bulk/SalesOrder/SalesOrderLines"
    first, second = SharedBudget(exact_connection.pk), SharedBudget(exact_connection.pk)
    assert not second.refuses(101, endpoint)
    first.record_refusal(101, endpoint)
    assert second.refuses(101, endpoint)
    assert not second.refuses(102, endpoint)  # another company may take the filter
    assert not second.refuses(101, "bulk/SalesInvoice/SalesInvoiceLines")
    frozen.shift(timedelta(days=7) - timedelta(seconds=1))
    assert second.refuses(101, endpoint)
    frozen.shift(timedelta(seconds=1))
    assert not second.refuses(101, endpoint)  # tried once more, in case Exact changed
