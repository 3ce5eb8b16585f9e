"""POST /webhooks/exact/: signature first, stored once, answered at once."""

import json

import pytest
from django_q.models import OrmQ

from audit.models import AuditEvent
from integrations.exact.webhooks import envelope, sign
from integrations.models import WebhookEvent

pytestmark = pytest.mark.django_db
SECRET = "test-webhook-secret"
URL = "/webhooks/exact/"
KEY = "c7d1a0f2-1111-2222-3333-444455556666"


def content(
    topic="SalesInvoices", division=101, action="Update", key=KEY, created="2026-11-23T10:15:04.2"
):
    # Compact, "/" escaped as Exact sends it (exact-online.md §7.4).
    return (
        '{"Topic":"%s","ClientId":"sandbox-client","Division":%s,"Action":"%s","Key":"%s",'
        '"ExactOnlineEndpoint":"https:\\/\\/start.exactonline.nl\\/api\\/v1\\/%s\\/salesinvoice",'
        '"EventCreatedOn":"%s"}' % (topic, division, action, key, division, created)
    ).encode()


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    """POST a body; run on_commit hooks (the enqueue) afterwards, as the real commit would."""

    def _post(client, body: bytes):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, data=body, content_type="application/json")

    return _post


def test_signed_event_is_stored_and_queued(client, route, post):
    response = post(client, envelope(content(), SECRET))
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert (event.topic, event.action, event.division, event.exact_key) == (
        "SalesInvoices",
        "update",
        101,
        KEY,
    )
    assert event.state == WebhookEvent.State.PENDING
    assert OrmQ.objects.count() == 1
    # The row is the record of the receipt; the audit trail records what the job changes.
    assert not AuditEvent.objects.exists()


def test_with_the_database_broker_the_job_is_written_in_the_events_transaction(
    client, route, settings
):
    # One commit a webhook: the job's row is there before the event's transaction commits,
    # and a rolled-back event leaves no job behind.
    from django.db import transaction

    from integrations.exact.webhooks import parse
    from integrations.sync import inbox

    settings.Q_BROKER = "orm"
    notification = parse(content())
    with transaction.atomic():
        inbox.receive_webhook_event(notification, raw_body="{}", client_id="sandbox-client")
        assert OrmQ.objects.count() == 1  # before any commit: same transaction
        transaction.set_rollback(True)
    assert (WebhookEvent.objects.count(), OrmQ.objects.count()) == (0, 0)


def test_signature_is_checked_on_raw_bytes_not_reserialised_json(client, route, post):
    raw = content()
    reserialised = json.dumps(json.loads(raw)).encode()
    assert reserialised != raw  # "\/" and spacing differ
    forged = b'{"Content":' + raw + b',"HashCode":"' + sign(reserialised, SECRET).encode() + b'"}'
    assert post(client, forged).status_code == 401
    assert post(client, envelope(raw, SECRET)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b'{"Content":{"Topic":"SalesInvoices"}}',  # no HashCode
        b'{"Content":{"Topic":"SalesInvoices"},"HashCode":"' + b"A" * 64 + b'"}',
        b'{"Content":{"Topic":"SalesInvoices"},"HashCode":"abc"}',
        b"not json at all",
    ],
)
def test_bad_or_missing_signature_gets_401_and_creates_no_work(client, route, body, post):
    response = post(client, body)
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0
    assert OrmQ.objects.count() == 0
    assert AuditEvent.objects.filter(action="webhook.rejected").count() == 1


def test_lower_case_hashcode_of_the_right_digest_is_accepted(client, route, post):
    raw = content()
    body = b'{"Content":' + raw + b',"HashCode":"' + sign(raw, SECRET).lower().encode() + b'"}'
    assert post(client, body).status_code == 200


def test_empty_validation_post_gets_200_and_queues_nothing(client, post):
    response = client.post(URL, data=b"", content_type="application/json")
    assert response.status_code == 200
    assert WebhookEvent.objects.count() == 0 and OrmQ.objects.count() == 0


def test_redelivered_event_is_stored_once(client, route, post):
    body = envelope(content(), SECRET)
    assert post(client, body).status_code == 200
    second = post(client, body)
    assert second.status_code == 200 and second.json()["status"] == "duplicate"
    assert WebhookEvent.objects.count() == 1
    assert OrmQ.objects.count() == 1


def test_signed_but_malformed_content_gets_400_and_queues_nothing(client, route, post):
    response = post(client, envelope(b'{"Topic": 12}', SECRET))
    assert response.status_code == 400
    assert "Topic" in response.json()["error"]
    assert WebhookEvent.objects.count() == 0 and OrmQ.objects.count() == 0


def test_oversized_body_gets_413(client, route, settings, post):
    settings.WEBHOOK_MAX_BODY_BYTES = 100
    response = post(client, envelope(content(), SECRET))
    assert response.status_code == 413
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        ({"topic": "StockPositions"}, "not synced"),
        ({"division": 999}, "No enabled route"),
    ],
)
def test_unrouted_topic_or_division_is_stored_ignored_with_reason(
    client, route, kwargs, reason, post
):
    response = post(client, envelope(content(**kwargs), SECRET))
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.IGNORED and reason in event.reason
    assert OrmQ.objects.count() == 0


def test_unselected_division_is_ignored(client, route, post):
    route.divisions.update(selected=False)
    post(client, envelope(content(), SECRET))
    assert WebhookEvent.objects.get().state == WebhookEvent.State.IGNORED


def test_webhook_is_exempt_from_csrf_and_needs_no_login(route, post):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert post(strict, envelope(content(), SECRET)).status_code == 200


@pytest.mark.parametrize("division", ["9223372036854775808", "-1", "true", "1.5"])
def test_a_division_that_is_not_an_exact_division_number_gets_400(client, route, post, division):
    raw = content(division=division)
    response = post(client, envelope(raw, SECRET))
    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


# The public sandbox webhook secret is in the repository: anyone can sign with it. It is accepted
# only when INTEGRATIONS_MODE=sandbox was set explicitly, never from a guessed ("auto") mode.
PUBLIC_SANDBOX_SECRET = "sandbox-webhook-secret"


@pytest.mark.parametrize(
    "requested, resolved",
    [("auto", "sandbox"), ("auto", "live"), ("live", "live")],
    ids=["debug-auto-resolved-to-sandbox", "auto-resolved-to-live", "live"],
)
def test_public_sandbox_secret_is_refused_unless_sandbox_mode_is_explicit(
    client, route, post, settings, requested, resolved
):
    settings.DEBUG = True
    settings.INTEGRATIONS_MODE_REQUESTED, settings.INTEGRATIONS_MODE = requested, resolved
    settings.EXACT_WEBHOOK_SECRET = PUBLIC_SANDBOX_SECRET
    response = post(client, envelope(content(), PUBLIC_SANDBOX_SECRET))
    assert response.status_code == 401
    assert not WebhookEvent.objects.exists()
    assert OrmQ.objects.count() == 0


def test_public_sandbox_secret_is_accepted_in_explicit_sandbox_mode(client, route, post, settings):
    settings.INTEGRATIONS_MODE_REQUESTED = settings.INTEGRATIONS_MODE = "sandbox"
    settings.EXACT_WEBHOOK_SECRET = PUBLIC_SANDBOX_SECRET
    assert post(client, envelope(content(), PUBLIC_SANDBOX_SECRET)).status_code == 200
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_in_a_burst_a_webhook_is_two_statements_and_no_transaction(client, route, monkeypatch):
    # Hundreds of webhooks a second for one division: after the first, the receipt remembers
    # for a few seconds that a route syncs it, sees the queued job with one read, and commits
    # its event with one INSERT on its own (no BEGIN and COMMIT round trips).
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    client.post(URL, data=envelope(content(key=KEY), SECRET), content_type="application/json")
    opened = []
    enter = transaction.Atomic.__enter__
    monkeypatch.setattr(
        transaction.Atomic, "__enter__", lambda self: (opened.append(self), enter(self))[1]
    )
    with CaptureQueriesContext(connection) as statements:
        second = envelope(content(key="c7d1a0f2-1111-2222-3333-444455556667"), SECRET)
        response = client.post(URL, data=second, content_type="application/json")
    assert response.status_code == 200
    sql = [q["sql"].split()[0] for q in statements.captured_queries]
    assert sql == ["SELECT", "INSERT"], statements.captured_queries
    assert opened == []
    assert WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING).count() == 2
    assert OrmQ.objects.count() == 1  # the second rides on the first's queued job


def test_a_route_switched_off_is_seen_by_the_next_webhook(client, route, post):
    from integrations.models import Route

    post(client, envelope(content(key=KEY), SECRET))
    route.enabled = False
    route.save()  # forgets, in this process, that a route synced the division
    post(client, envelope(content(key="c7d1a0f2-1111-2222-3333-444455556667"), SECRET))
    assert WebhookEvent.objects.order_by("pk").last().state == WebhookEvent.State.IGNORED
    # A no is never remembered: switched on again (even by another process), the next
    # webhook is taken.
    Route.objects.filter(pk=route.pk).update(enabled=True)
    post(client, envelope(content(key="c7d1a0f2-1111-2222-3333-444455556668"), SECRET))
    assert WebhookEvent.objects.order_by("pk").last().state == WebhookEvent.State.PENDING


def test_a_route_switched_off_in_another_process_costs_its_events_nothing(client, route, post):
    # Another process remembers the route for up to ROUTED_FOR seconds: its webhooks in that
    # time are stored pending, and the job finds no route and ignores them, saying why.
    from integrations.models import Route
    from integrations.sync import inbox

    post(client, envelope(content(key=KEY), SECRET))
    Route.objects.filter(pk=route.pk).update(enabled=False)  # no signal: as another process
    post(client, envelope(content(key="c7d1a0f2-1111-2222-3333-444455556667"), SECRET))
    late = WebhookEvent.objects.order_by("pk").last()
    assert late.state == WebhookEvent.State.PENDING
    assert inbox.process_webhook_event(late) == WebhookEvent.State.IGNORED
    late.refresh_from_db()
    assert "No enabled route" in late.last_error
