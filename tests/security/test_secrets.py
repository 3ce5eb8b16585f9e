"""Tokens never leave: not in logs, audit events, admin HTML or error pages.

The flows run for real against the served sandboxes (OAuth connect, token refresh, a refused
refresh, Monday token connect and a refused token, webhooks in and items out); every token the
sandboxes issued, every authorization code and the app's secrets are then searched for in the
captured log records, every AuditEvent, every admin changelist and change page, and a 500 page.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.contrib import admin
from django.forms.models import model_to_dict
from django.test import Client, override_settings
from django.urls import reverse

from audit.models import AuditEvent
from integrations.errors import IntegrationError
from integrations.exact import connections
from integrations.models import ExactConnection, MondayConnection
from integrations.monday import connections as monday_connections
from integrations.sync import polling
from tests.reliability.conftest import make_live
from tests.reliability.counters import COUNTS
from tests.stack import MONDAY_TOKEN, WEBHOOK_SECRET

pytestmark = pytest.mark.django_db


def issued_secrets(stack, codes: list[str]) -> set[str]:
    auth = stack.exact.auth
    found = set(codes) | set(auth.by_refresh) | set(auth.by_access)
    for chain in auth.chains.values():
        found |= {chain.access_token, chain.refresh_token, *chain.old_refresh}
    found |= {MONDAY_TOKEN, "wrong-monday-token-ZZZZZZZZ", WEBHOOK_SECRET, auth.client_secret}
    return {s for s in found if s}


def age_tokens(live, conn) -> None:
    """Ten minutes pass, here and in the sandbox: a refresh is allowed again."""
    live.clock.advance(600)
    ExactConnection.objects.filter(pk=conn.pk).update(
        access_token_issued_at=conn.access_token_issued_at - timedelta(seconds=600)
    )
    conn.refresh_from_db()


@pytest.fixture
def flows(stack, caplog, monkeypatch):
    """Run every flow that handles a secret; return the secrets it handled."""
    caplog.set_level(logging.DEBUG)
    codes: list[str] = []
    issue = stack.exact.issue_authorization_code
    monkeypatch.setattr(
        stack.exact, "issue_authorization_code", lambda uri: codes.append(issue(uri)) or codes[-1]
    )
    live = make_live(stack)
    conn = live.exact_conn
    # A refresh once Exact allows it (570 s after issue).
    age_tokens(live, conn)
    old_refresh = conn.refresh_token
    connections.ensure_fresh_token(conn, force=True)
    conn.refresh_from_db()
    assert conn.refresh_token != old_refresh
    connections.keep_alive_exact_connections()
    # Monday: a refused token is tested and reported.
    bad = MondayConnection.objects.create(name="Bad", api_url=live.monday_conn.api_url)
    bad.api_token = "wrong-monday-token-ZZZZZZZZ"
    bad.save()
    assert monday_connections.test_monday_connection(bad)["ok"] is False
    # Webhooks in, items out, one bad signature, a poll.
    conn.refresh_from_db()
    live.exact.webhooks_enabled = True
    live.invoice()
    live.drain()
    body = b'{"Content":{"Topic":"SalesInvoices"},"HashCode":"' + b"0" * 64 + b'"}'
    live.webhook_client.post("/webhooks/exact/", data=body, content_type="application/json")
    polling.poll_division(live.route_obj, 101)
    # Last, a refused refresh: a stale refresh token (Exact then revokes the whole chain).
    age_tokens(live, conn)
    conn.refresh_token = old_refresh
    conn.save()
    with pytest.raises(IntegrationError):
        connections.ensure_fresh_token(conn, force=True)
    secrets = issued_secrets(live, codes)
    assert len(codes) == 1 and len(secrets) >= 8
    return live, secrets


def leaks(text: str, secrets: set[str]) -> list[str]:
    COUNTS["checks: secret strings searched for"] += len(secrets)
    return [s[:6] + "…" for s in secrets if s in text]


def test_no_secret_in_any_log_record(flows, caplog):
    _, secrets = flows
    records = caplog.get_records("setup")  # the flows ran in the fixture
    assert len(records) > 20
    assert {"integrations.exact.tokens", "integrations.views.webhook"} <= {r.name for r in records}
    formatter = logging.Formatter()
    for record in records:
        text = record.getMessage() + repr(record.__dict__)
        if record.exc_info:
            text += formatter.formatException(record.exc_info)
        assert not leaks(text, secrets), (record.name, record.msg)


def test_no_secret_in_any_audit_event(flows):
    _, secrets = flows
    events = list(AuditEvent.objects.all())
    assert len(events) > 5
    actions = {e.action for e in events}
    assert {"webhook.rejected", "item.created"} <= actions
    for event in events:
        text = json.dumps(model_to_dict(event), default=str)
        assert not leaks(text, secrets), event.action


def test_no_secret_in_any_admin_changelist_or_change_page(flows, staff_user):
    _, secrets = flows
    client = Client()
    client.force_login(staff_user)
    rendered = set()
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        page = client.get(reverse("admin:{}_{}_changelist".format(*info)))
        assert page.status_code == 200, info
        assert not leaks(page.content.decode(), secrets), info
        obj = model_admin.get_queryset(page.wsgi_request).first()
        if obj is None:
            continue
        page = client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
        assert page.status_code == 200, info
        assert not leaks(page.content.decode(), secrets), info
        rendered.add(model.__name__)
    assert {"ExactConnection", "MondayConnection", "WebhookEvent", "AuditEvent"} <= rendered
    assert {"Route", "SyncedRecord", "PollCursor", "MondayBoard"} <= rendered


def test_a_500_page_never_shows_the_secret_in_the_exception(flows, staff_user, monkeypatch):
    live, secrets = flows
    token = live.exact_conn.access_token

    def crash(conn):
        raise RuntimeError(f"boom with {conn.access_token}")

    monkeypatch.setattr(connections, "test_exact_connection", crash)
    client = Client(raise_request_exception=False)
    client.force_login(staff_user)
    with override_settings(DEBUG=False):
        response = client.post(
            reverse("admin:integrations_exactconnection_test", args=[live.exact_conn.pk])
        )
    assert response.status_code == 500
    assert token not in response.content.decode()
    assert not leaks(response.content.decode(), secrets)
