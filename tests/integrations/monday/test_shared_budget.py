"""The Monday budget shared by every process (monday/shared_budget.py): reservations before
sending, the true-up from `complexity`, windows, and the daily call count."""

from __future__ import annotations

import pytest
import responses

from integrations.models import MondayConnection
from integrations.monday import client as monday_client
from integrations.monday.budget import BudgetTracker
from integrations.monday.errors import BudgetExhausted, DailyLimitExceeded
from integrations.monday.shared_budget import RESERVATION_TTL, SharedMondayBudget

pytestmark = pytest.mark.django_db

T0 = 1_800_000_000.0  # seconds since the epoch, mid-day UTC
URL = "https://monday.example.test/v2"


def at(seconds: float):
    return lambda: T0 + seconds


def answer(before: int, cost: int, reset_in: int) -> dict:
    return {"before": before, "after": before - cost, "query": cost, "reset_in_x_seconds": reset_in}


@pytest.fixture
def budgets(monday_connection):
    """Two workers' budgets of one token: separate objects, one row."""
    return SharedMondayBudget(monday_connection.pk), SharedMondayBudget(monday_connection.pk)


def learned(budget, *, limit=400_000, reset_in=60, now=0.0):
    """The budget after one answer at the start of a fresh window."""
    first = budget.reserve(0, at(now))
    budget.record(first, answer(limit, 0, reset_in), at(now))


def test_a_reservation_of_one_worker_makes_another_wait_for_the_reset(budgets):
    a, b = budgets
    learned(a)
    sent = a.reserve(300_000, at(1))
    assert sent.wait == 0
    waiting = b.reserve(200_000, at(2))
    assert waiting.wait == pytest.approx(58.5) and waiting.points == 0
    assert b.reserve(100_000, at(3)).wait == 0  # what is left still fits
    a.record(sent, answer(400_000, 300_000, 58), at(3))
    assert b.reserve(200_000, at(61)).wait == 0  # the window has reset


def test_the_answer_trues_the_reservation_up_to_what_monday_charged(budgets):
    a, b = budgets
    learned(a)
    r = a.reserve(100_000, at(1))
    assert a.state().remaining == 300_000
    a.record(r, answer(400_000, 60_000, 59), at(2))
    assert a.state().remaining == 340_000 and a.state().pending == 0
    # Another user of the token spent more than we know: Monday's number wins.
    r = b.reserve(10_000, at(3))
    b.record(r, answer(100_000, 10_000, 57), at(4))
    assert b.state().remaining == 90_000


def test_requests_in_flight_are_carried_into_the_next_window(budgets):
    a, b = budgets
    learned(a)
    in_flight = a.reserve(250_000, at(1))
    assert b.reserve(100_000, at(61)).wait == 0  # a new window: the whole limit less in flight
    assert b.state().remaining == 400_000 - 250_000 - 100_000
    # The old request is charged in the new window: only the difference comes back.
    a.record(in_flight, answer(400_000, 240_000, 59), at(62))
    assert a.state().remaining == 60_000 and a.state().carried == 0


def test_a_refusal_makes_every_worker_wait_as_long_as_monday_said(budgets):
    a, b = budgets
    learned(a)
    r = a.reserve(30_000, at(1))
    a.refused(r, BudgetExhausted("Complexity budget exhausted", retry_after=40), at(2))
    assert b.reserve(30_000, at(3)).wait == pytest.approx(39.5)


def test_the_daily_call_limit_stops_every_worker_for_the_day(settings, monday_connection):
    settings.MONDAY_DAILY_CALL_LIMIT = 3
    a, b = (monday_client.for_connection(monday_connection).budget for _ in range(2))
    for n in range(3):
        assert (a if n % 2 else b).reserve(0, at(n)).wait == 0
    with pytest.raises(DailyLimitExceeded) as caught:
        b.reserve(0, at(10))
    assert "daily call limit" in str(caught.value) and "resume" in str(caught.value)
    assert caught.value.retry_after > 3600
    with pytest.raises(DailyLimitExceeded):
        a.reserve(0, at(11))
    assert a.reserve(0, at(caught.value.retry_after + 11)).wait == 0  # the next day


def test_monday_saying_the_day_is_spent_stops_the_other_workers(budgets):
    a, b = budgets
    r = a.reserve(0, at(0))
    a.refused(r, DailyLimitExceeded("Daily limit exceeded", retry_after=3_000), at(0))
    with pytest.raises(DailyLimitExceeded):
        b.reserve(0, at(10))
    assert b.reserve(0, at(3_001)).wait == 0


def test_clients_of_a_saved_connection_share_the_database_budget(monday_connection):
    client = monday_client.for_connection(monday_connection)
    assert isinstance(client.budget, SharedMondayBudget)
    unsaved = MondayConnection(api_token="t", api_url=URL)
    assert isinstance(monday_client.for_connection(unsaved).budget, BudgetTracker)


@responses.activate
def test_a_client_stops_before_sending_when_the_day_is_spent(settings, monday_connection):
    settings.MONDAY_DAILY_CALL_LIMIT = 1
    responses.post(URL, json={"data": {"complexity": answer(400_000, 10, 60)}})
    monday_connection.api_url = URL
    client = monday_client.for_connection(monday_connection, clock=at(0), sleep=lambda s: None)
    client.execute("query { complexity { before after query reset_in_x_seconds } }")
    other = monday_client.for_connection(monday_connection, clock=at(1), sleep=lambda s: None)
    with pytest.raises(DailyLimitExceeded):
        other.execute("query { complexity { before after query reset_in_x_seconds } }")
    assert len(responses.calls) == 1


def test_a_reservation_never_trued_up_comes_back_after_its_deadline(budgets):
    a, b = budgets
    learned(a)
    dead = a.reserve(300_000, at(1))  # this worker is killed mid-request: no answer, ever
    assert b.reserve(200_000, at(2)).wait > 0  # in flight: still counted
    # The window resets at 60 s; the request could still be charged there, so it is carried.
    assert b.reserve(200_000, at(61)).wait > 0
    assert dead.ref in b.state().in_flight
    # Past its deadline (the client's longest request and a margin) its points are back.
    later = 1 + RESERVATION_TTL + 1
    assert RESERVATION_TTL < 90
    taken = b.reserve(350_000, at(later))
    assert taken.wait == 0
    state = b.state()
    assert dead.ref not in state.in_flight and state.carried == 0
    assert state.remaining == 400_000 - 350_000
    # Should the dead request's answer arrive after all, what Monday charged is counted once.
    a.record(dead, answer(400_000, 20_000, 40), at(later + 1))
    assert a.state().remaining == 400_000 - 350_000 - 20_000
    b.record(taken, answer(380_000, 350_000, 39), at(later + 2))
    assert b.state().in_flight == {} and b.state().pending == 0
