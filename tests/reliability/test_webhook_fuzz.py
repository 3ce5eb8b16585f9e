"""Property-based: whatever arrives at the webhook, never a 500 and never unsigned work."""

import json

import pytest
from django.test import Client
from django_q.models import OrmQ
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.exact.webhooks import envelope, sign
from integrations.models import WebhookEvent
from tests.reliability.counters import COUNTS

pytestmark = pytest.mark.django_db
SECRET = "test-webhook-secret"
URL = "/webhooks/exact/"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
hostile_content = st.fixed_dictionaries(
    {},
    optional={
        "Topic": st.one_of(st.sampled_from(["SalesInvoices", "PurchaseOrders", "X"]), json_values),
        "Division": st.one_of(st.integers(), st.text(max_size=12), json_values),
        "Action": json_values,
        "Key": json_values,
        "ClientId": json_values,
        "EventCreatedOn": json_values,
    },
)


def _post(client, body: bytes, content_type: str):
    return client.post(URL, data=body, content_type=content_type)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.binary(max_size=400) | st.text(max_size=400).map(str.encode),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "application/x-www-form-urlencoded", ""]
    ),
)
def test_random_bodies_never_crash_and_never_queue_work(route, body, content_type):
    COUNTS["bad inputs tried: hostile webhook bodies"] += 1
    response = _post(Client(), body, content_type)
    assert response.status_code in (200, 400, 401, 413, 415)
    assert OrmQ.objects.count() == 0
    if response.status_code != 200:
        assert WebhookEvent.objects.count() == 0


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=hostile_content, hashcode=st.text(alphabet="0123456789ABCDEFabcdef", max_size=70))
def test_forged_signatures_are_rejected_without_storing_anything(route, content, hashcode):
    COUNTS["bad inputs tried: hostile webhook bodies"] += 1
    raw = json.dumps(content, separators=(",", ":")).encode()
    if hashcode.upper() == sign(raw, SECRET):
        return
    body = b'{"Content":' + raw + b',"HashCode":"' + hashcode.encode() + b'"}'
    response = _post(Client(), body, "application/json")
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0 and OrmQ.objects.count() == 0


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=hostile_content)
def test_correctly_signed_hostile_content_never_crashes(route, content):
    COUNTS["bad inputs tried: hostile webhook bodies"] += 1
    raw = json.dumps(content, separators=(",", ":")).encode()
    before = WebhookEvent.objects.count()  # examples share one database transaction
    response = _post(Client(), envelope(raw, SECRET), "application/json")
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert WebhookEvent.objects.count() == before
