"""Two workers checking alerts at the same moment still mail each administrator once: the
unique SentAlert claim is taken by one; the other waits on it and then finds it taken."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection

from integrations.exact.tokens import mark_needs_reauth
from integrations.sync import alerts
from tests.factories import make_exact_connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_workers_checking_at_once_send_each_alert_once(staff_user, monkeypatch):
    conn = make_exact_connection()
    mark_needs_reauth(conn, reason="invalid_grant")
    both_claiming = threading.Barrier(2)
    recipients = alerts.recipients

    def in_step(kind):  # both workers have read the state and now race for the claim
        found = recipients(kind)
        both_claiming.wait(timeout=10)
        return found

    monkeypatch.setattr(alerts, "recipients", in_step)
    sent = []

    def worker():
        try:
            sent.append(alerts.check_connections())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(sent) == [0, 1]
    assert [m.to for m in mail.outbox] == [["admin@example.test"]]
