"""How a burst is read (sync/read_plan.py): through the route's sync feed from its cursor when
that costs fewer calls than key batches; and, while the division's daily calls run short, after a
read window in which later events join the first."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from integrations import tasks
from integrations.models import MondayBudget, PollCursor, SyncedRecord, WebhookEvent
from integrations.monday import shared_budget
from integrations.monday.batching import CREATES_PER_REQUEST
from integrations.sync import inbox, polling, read_plan
from tests.reliability.conftest import item_keys, make_live

pytestmark = pytest.mark.django_db
State = WebhookEvent.State


def exact_calls(stack, division=101) -> int:
    return len(stack.exact.calls)


def drain_job_by_job(live, jobs: int = 20) -> None:
    """Run the jobs one after another, a retry's second apart, until no event is open."""
    for _ in range(jobs):
        if not WebhookEvent.objects.filter(state__in=(State.PENDING, State.PROCESSING)).exists():
            return
        live.advance(2)
        live.drain(rounds=1)


def test_a_burst_of_500_events_is_read_through_the_feed_from_the_cursor(stack):
    live = make_live(stack)
    route = live.route_obj
    # The route has been polled: its cursor stands after the documents of before.
    live.exact.webhooks_enabled = False
    before = live.invoice(amounts=(10,))
    polling.poll_division(route, 101)
    cursor = PollCursor.objects.get(route=route, division=101, feed=route.entity)
    assert cursor.timestamp > 1
    live.exact.webhooks_enabled = True

    invoices = [live.invoice(amounts=(100 + n,)) for n in range(500)]
    assert WebhookEvent.objects.filter(state=State.PENDING).count() == 500
    used_before = exact_calls(live)
    states = live.drain()
    used = exact_calls(live) - used_before

    by_keys = read_plan.key_batch_calls(500, lines=1)  # 9 calls of headers, 9 of lines
    assert used < by_keys and used <= 3, live.exact.calls[used_before:]
    assert set(states) == {"done"}
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {State.DONE}
    keys = item_keys(live)
    assert len(keys) == len(set(keys)) == 501
    assert sorted(keys) == sorted(i["InvoiceID"].lower() for i in [before, *invoices])
    assert SyncedRecord.objects.filter(state=SyncedRecord.State.SYNCED).count() == 501
    assert AuditEvent.objects.filter(action="item.failed").count() == 0
    # The burst came by webhook (not a missed one), and the cursor moved past it once written.
    caught = SyncedRecord.objects.filter(caught_by_polling=True)
    assert list(caught.values_list("exact_key", flat=True)) == [before["InvoiceID"].lower()]
    assert set(SyncedRecord.objects.values_list("first_seen_via", flat=True)) == {"poll", "webhook"}
    cursor.refresh_from_db()
    assert cursor.timestamp > 1 and cursor.running_since is None
    used_before = exact_calls(live)
    assert polling.poll_division(route, 101)["documents"] == 0  # nothing left past it
    assert len(item_keys(live)) == 501


def test_a_change_only_the_feed_holds_is_written_with_the_burst_and_counted_as_missed(stack):
    live = make_live(stack)
    route = live.route_obj
    live.exact.webhooks_enabled = False
    first = live.invoice()
    polling.poll_division(route, 101)
    missed = live.invoice(amounts=(77,))  # its webhook never came
    live.exact.webhooks_enabled = True
    told = [live.invoice(amounts=(n,)) for n in (1, 2, 3)]
    calls = exact_calls(live)
    assert set(live.drain()) == {"done"}
    assert exact_calls(live) - calls == 1  # the feed from the cursor: one call for all four
    assert sorted(item_keys(live)) == sorted(i["InvoiceID"].lower() for i in [first, missed, *told])
    rec = SyncedRecord.objects.get(exact_key=missed["InvoiceID"].lower())
    assert rec.caught_by_polling and rec.state == SyncedRecord.State.SYNCED
    assert not SyncedRecord.objects.filter(
        exact_key__in=[i["InvoiceID"].lower() for i in told], caught_by_polling=True
    ).exists()


def spend_the_days_calls(live, *, left: int, division=101) -> None:
    """Exact has counted all but `left` of the division's 5,000 calls today; the product learns
    it from the headers of its next call."""
    window = live.exact.limits.windows[division]
    window.day_count = live.exact.limits.daily_limit - left - 1
    live.refresh_reference_data(division)


def test_a_lone_event_with_the_days_calls_plentiful_is_read_at_once(stack):
    live = make_live(stack)
    invoice = live.invoice()
    (event,) = WebhookEvent.objects.filter(state=State.PENDING)
    waited = len(live.shared_clock.waits)
    assert tasks.process_webhook_event(event.pk) == State.DONE
    assert live.shared_clock.waits[waited:] == []  # no read window
    assert item_keys(live) == [invoice["InvoiceID"].lower()]


def test_with_few_calls_left_events_wait_a_window_and_share_one_read(stack):
    live = make_live(stack)
    spend_the_days_calls(live, left=1_200)  # 24% of the day's calls left
    invoices = []
    for _ in range(3):  # three invoices 5 s apart, each event's job run as it comes
        invoices.append(live.invoice())
        event = WebhookEvent.objects.latest("pk")
        assert inbox.process_webhook_event(event) == State.PENDING
        live.advance(5)
    waiting = WebhookEvent.objects.filter(state=State.PENDING)
    assert waiting.count() == 3 and len({e.next_attempt_at for e in waiting}) == 1
    assert item_keys(live) == [] and live.drain() == []  # nothing is due yet

    live.advance(read_plan.MAX_WINDOW)
    calls = exact_calls(live)
    assert live.drain() == [State.DONE] * 3
    assert exact_calls(live) - calls == 2  # one read for the three: headers, then lines
    assert sorted(item_keys(live)) == sorted(i["InvoiceID"].lower() for i in invoices)


def test_the_worker_that_opens_a_read_window_waits_it_out_and_reads_every_event_in_it(stack):
    live = make_live(stack)
    spend_the_days_calls(live, left=1_200)
    invoices = [live.invoice(), live.invoice()]
    first, second = WebhookEvent.objects.order_by("pk")
    waited = len(live.shared_clock.waits)
    assert tasks.process_webhook_event(first.pk) == State.DONE
    (window,) = live.shared_clock.waits[waited:]
    assert window == pytest.approx(read_plan.MAX_WINDOW, abs=1)
    assert tasks.process_webhook_event(second.pk) == "skipped"  # read in the same window
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {State.DONE}
    assert sorted(item_keys(live)) == sorted(i["InvoiceID"].lower() for i in invoices)


def test_an_event_that_joins_an_open_window_leaves_its_worker_free(stack):
    live = make_live(stack)
    spend_the_days_calls(live, left=1_200)
    live.invoice()
    opener = WebhookEvent.objects.get()
    assert inbox.process_webhook_event(opener) == State.PENDING  # opens the window
    live.invoice()
    joined = WebhookEvent.objects.latest("pk")
    waited = len(live.shared_clock.waits)
    assert tasks.process_webhook_event(joined.pk) == State.PENDING
    assert live.shared_clock.waits[waited:] == []
    opener.refresh_from_db()
    joined.refresh_from_db()
    assert joined.next_attempt_at == opener.next_attempt_at


def test_events_whose_documents_a_poll_wrote_first_cost_one_feed_call_and_no_item(stack):
    live = make_live(stack)
    route = live.route_obj
    live.exact.webhooks_enabled = False
    live.invoice()
    polling.poll_division(route, 101)
    live.exact.webhooks_enabled = True
    told = [live.invoice(amounts=(n,)) for n in (1, 2, 3)]
    polling.poll_division(route, 101)  # the poll comes first and writes them
    requests = len(live.monday.requests)
    calls = exact_calls(live)
    assert live.drain() == [State.DONE] * 3
    assert exact_calls(live) - calls == 1  # the feed past the cursor: empty; no key read
    assert len(live.monday.requests) == requests
    assert len(item_keys(live)) == len(set(item_keys(live))) == 4
    assert {i["InvoiceID"].lower() for i in told} <= set(item_keys(live))


def test_with_the_monday_accounts_daily_calls_short_events_wait_and_share_one_write(
    stack, settings
):
    settings.MONDAY_DAILY_CALL_LIMIT = 1_000  # a Basic plan, as the admin set it
    live = make_live(stack)
    live.invoice()
    live.drain()  # the route's first write: Monday's budget row exists from here
    # 30% of the account's calls left today; written the way the budget writes its row (on
    # PostgreSQL its own connection), so no lock of this test's transaction holds the product up.
    alias = shared_budget._side.alias()
    rows = MondayBudget.objects.using(alias).filter(
        connection_id=live.route_obj.monday_connection_id
    )
    assert rows.update(daily_calls=700) == 1
    invoices = []
    for _ in range(3):  # Exact's calls are plentiful: only Monday's daily count is short
        invoices.append(live.invoice())
        assert inbox.process_webhook_event(WebhookEvent.objects.latest("pk")) == State.PENDING
        live.advance(5)
    requests = len(live.monday.requests)
    live.advance(read_plan.MAX_WINDOW)
    assert live.drain() == [State.DONE] * 3
    writes = [r for r in live.monday.requests[requests:] if r["mutations"]]
    assert len(writes) == 1 and writes[0]["mutations"] >= 3  # the three items in one request
    assert {i["InvoiceID"].lower() for i in invoices} <= set(item_keys(live))


def test_a_burst_longer_than_one_job_goes_on_in_the_next_and_spends_no_attempt(stack, monkeypatch):
    live = make_live(stack)
    route = live.route_obj
    live.exact.webhooks_enabled = False
    live.invoice(amounts=(10,))
    polling.poll_division(route, 101)  # a cursor to read the feed from
    live.exact.webhooks_enabled = True
    invoices = [live.invoice(amounts=(100 + n,)) for n in range(250)]
    # Every job is past its slice after its first Monday request's worth: it writes 33 of the
    # page and leaves the rest (the cursor stays before the page: the next job reads it again).
    monkeypatch.setattr(polling, "slice_deadline", lambda: 0.0)
    first = WebhookEvent.objects.order_by("pk").first()
    assert inbox.process_webhook_event(first) == State.DONE
    assert len(item_keys(live)) == 1 + CREATES_PER_REQUEST
    waiting = WebhookEvent.objects.filter(state=State.PENDING)
    assert waiting.count() == 250 - CREATES_PER_REQUEST
    assert set(waiting.values_list("attempts", flat=True)) == {0}  # not a failure
    assert "Read in part" in waiting.first().last_error
    drain_job_by_job(live)
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {State.DONE}
    keys = item_keys(live)
    assert len(keys) == len(set(keys)) == 251
    assert {i["InvoiceID"].lower() for i in invoices} <= set(keys)


def test_a_long_feed_read_ends_its_events_page_by_page(stack, monkeypatch):
    # A job that dies after its first page leaves only the unwritten events to their retry:
    # the first page's events are done, and the inbox showed it while the job went on.
    from integrations.sync import records

    live = make_live(stack)
    route = live.route_obj
    live.exact.webhooks_enabled = False
    live.invoice(amounts=(10,))
    polling.poll_division(route, 101)
    live.exact.webhooks_enabled = True
    for n in range(250):
        live.invoice(amounts=(100 + n,))
    write_page, pages = records.write_in_parts, []  # the feed writes a page with one call
    done_when_page_two_began = []

    def second_page_crashes(*args, **kwargs):
        pages.append(1)
        if len(pages) == 2:
            done_when_page_two_began.append(WebhookEvent.objects.filter(state=State.DONE).count())
            raise RuntimeError("the worker dies here")
        return write_page(*args, **kwargs)

    monkeypatch.setattr(records, "write_in_parts", second_page_crashes)
    first = WebhookEvent.objects.order_by("pk").first()
    assert inbox.process_webhook_event(first) == State.DONE  # its document was on page one
    assert done_when_page_two_began == [polling.WRITE_BATCH]
    retried = WebhookEvent.objects.filter(state=State.PENDING)
    assert retried.count() == 250 - polling.WRITE_BATCH
    assert set(retried.values_list("attempts", flat=True)) == {1}
    assert WebhookEvent.objects.filter(state=State.DONE).count() == polling.WRITE_BATCH
    monkeypatch.setattr(records, "write_in_parts", write_page)
    live.advance(60)
    live.drain()
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {State.DONE}
    keys = item_keys(live)
    assert len(keys) == len(set(keys)) == 251


def test_a_burst_read_by_key_also_stops_when_its_time_is_up(stack, monkeypatch):
    # No cursor yet (the route was never polled): the burst is read by key batch. Monday's
    # budget is shared by every worker, so a job writes a request's worth at a time and leaves
    # the rest to the next job once its time is up, instead of being killed by the job timeout.
    live = make_live(stack)
    invoices = [live.invoice(amounts=(100 + n,)) for n in range(80)]
    monkeypatch.setattr(polling, "slice_deadline", lambda: 0.0)
    first = WebhookEvent.objects.order_by("pk").first()
    assert inbox.process_webhook_event(first) == State.DONE
    assert len(item_keys(live)) == CREATES_PER_REQUEST
    assert WebhookEvent.objects.filter(state=State.DONE).count() == CREATES_PER_REQUEST
    waiting = WebhookEvent.objects.filter(state=State.PENDING)
    assert waiting.count() == 80 - CREATES_PER_REQUEST
    assert set(waiting.values_list("attempts", flat=True)) == {0}  # not a failure
    assert "Read in part" in waiting.first().last_error
    drain_job_by_job(live)
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {State.DONE}
    keys = item_keys(live)
    assert sorted(keys) == sorted(i["InvoiceID"].lower() for i in invoices)
