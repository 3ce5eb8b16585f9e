"""The correlation id of the work in hand: bound while a webhook event or a poll runs."""

import pytest

from audit import correlation
from integrations.exact import connections as exact_connections
from integrations.models import WebhookEvent
from integrations.sync import batches, inbox, polling


def test_bound_sets_and_restores_the_id():
    assert correlation.current() == ""
    with correlation.bound("webhook:1"):
        with correlation.bound("poll:2:101"):
            assert correlation.current() == "poll:2:101"
        assert correlation.current() == "webhook:1"
    assert correlation.current() == ""


@pytest.mark.django_db
def test_processing_a_webhook_event_binds_its_id(route, monkeypatch):
    seen = []
    # The inbox syncs an event (with any due events of its division and entity) as a batch.
    monkeypatch.setattr(
        batches, "sync_events", lambda *a, **kw: seen.append(correlation.current()) or {}
    )
    event = WebhookEvent.objects.create(
        dedupe_key="k1",
        topic="SalesInvoices",
        action="update",
        division=101,
        exact_key="c7d1a0f2-1111-2222-3333-444455556666",
        raw_body="{}",
    )
    assert inbox.process_webhook_event(event) == "done"
    assert seen == [f"webhook:{event.pk}"]
    assert correlation.current() == ""


@pytest.mark.django_db
def test_a_poll_binds_its_route_and_division(route, monkeypatch):
    seen = []

    class Client:
        def iter_changes(self, *a, **kw):
            seen.append(correlation.current())
            return []

        def iter_deleted(self, *a, **kw):
            return []

    monkeypatch.setattr(exact_connections, "for_connection", lambda conn: Client())
    polling.poll_division(route, 101)
    assert seen == [f"poll:{route.pk}:101"]
    assert correlation.current() == ""


@pytest.mark.django_db
def test_audit_events_take_the_bound_id_unless_given_one():
    import audit

    with correlation.bound("poll:7:101"):
        implicit = audit.record("poll.cursor_reset")
        explicit = audit.record("poll.cursor_reset", correlation_id="admin:review")
    assert implicit.correlation_id == "poll:7:101"
    assert explicit.correlation_id == "admin:review"
    assert audit.record("poll.cursor_reset").correlation_id == ""
