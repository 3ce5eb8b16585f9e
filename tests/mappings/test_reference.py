import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from integrations.errors import RateLimited, ReconnectRequired, RemoteRejected, RemoteUnavailable
from integrations.exact.entities import ExactCostCenter, ExactGLAccount
from integrations.models import ConnectionStatus
from mappings.models import CostCenter, GLAccount
from mappings.reference import (
    ReferenceDataIncomplete,
    failure_message,
    refresh_all_reference_data,
    refresh_reference_data,
)
from tests import factories
from tests.integrations.exact.rows import page

pytestmark = pytest.mark.django_db


class FakeClient:
    def __init__(self, gl, cc, fail=None, fail_cc=None):
        self.gl, self.cc, self.fail, self.fail_cc = gl, cc, fail, fail_cc
        self.read = []

    def list_gl_accounts(self, division):
        self.read.append("gl")
        if self.fail:
            raise self.fail
        return self.gl

    def list_cost_centers(self, division):
        self.read.append("cc")
        if self.fail_cc:
            raise self.fail_cc
        return self.cc


def gl(n, code, blocked=False):
    return ExactGLAccount(uuid.UUID(int=n), code, f"GL {code}", blocked)


def cc(n, code, end=None):
    return ExactCostCenter(uuid.UUID(int=n), code, f"CC {code}", end)


def test_reference_data_is_upserted_by_exact_id(exact_connection):
    division = exact_connection.divisions.get()
    refresh_reference_data(division, client=FakeClient([gl(1, "8000")], [cc(2, "200")]))
    counts = refresh_reference_data(
        division, client=FakeClient([gl(1, "8001"), gl(3, "4000")], [cc(2, "200")])
    )
    assert counts == {"gl_accounts": 2, "cost_centers": 1, "deactivated": 0}
    assert sorted(GLAccount.objects.values_list("code", flat=True)) == ["4000", "8001"]
    assert GLAccount.objects.get(exact_id=str(uuid.UUID(int=1))).description == "GL 8001"
    assert AuditEvent.objects.filter(action="mappings.reference_refreshed").count() == 2


def test_missing_ones_are_marked_inactive_never_deleted(exact_connection):
    division = exact_connection.divisions.get()
    refresh_reference_data(
        division, client=FakeClient([gl(1, "8000"), gl(2, "8100")], [cc(3, "200"), cc(4, "300")])
    )
    counts = refresh_reference_data(division, client=FakeClient([gl(1, "8000")], [cc(3, "200")]))
    assert counts["deactivated"] == 2
    assert GLAccount.objects.get(code="8100").active is False
    assert CostCenter.objects.get(code="300").active is False
    assert GLAccount.objects.count() == 2 and CostCenter.objects.count() == 2


def test_blocked_gl_accounts_and_ended_cost_centers_are_inactive(exact_connection):
    division = exact_connection.divisions.get()
    today = timezone.localdate()
    refresh_reference_data(
        division,
        client=FakeClient(
            [gl(1, "8000", blocked=True)],
            [
                cc(2, "200", end=today - timedelta(days=1)),
                cc(3, "300", end=today + timedelta(days=9)),
            ],
        ),
    )
    assert GLAccount.objects.get().active is False
    assert CostCenter.objects.get(code="200").active is False
    assert CostCenter.objects.get(code="300").active is True
    assert CostCenter.objects.get(code="200").end_date == today - timedelta(days=1)


def test_a_failed_read_changes_nothing_of_that_list(exact_connection):
    division = exact_connection.divisions.get()
    refresh_reference_data(division, client=FakeClient([gl(1, "8000")], []))
    with pytest.raises(ReferenceDataIncomplete) as caught:
        refresh_reference_data(
            division, client=FakeClient([], [], fail=RateLimited("low", retry_after=60))
        )
    assert isinstance(caught.value.failures["gl_accounts"], RateLimited)
    assert caught.value.retryable
    assert GLAccount.objects.get().active is True


def test_a_failed_gl_read_still_reads_and_writes_the_cost_centers(exact_connection):
    division = exact_connection.divisions.get()
    refresh_reference_data(division, client=FakeClient([gl(1, "8000")], [cc(2, "200")]))
    client = FakeClient(
        [], [cc(2, "200"), cc(3, "300")], fail=RemoteRejected("HTTP 400", status=400)
    )
    with pytest.raises(ReferenceDataIncomplete) as caught:
        refresh_reference_data(division, client=client)
    assert client.read == ["gl", "cc"]
    assert set(caught.value.failures) == {"gl_accounts"}
    assert caught.value.counts == {"cost_centers": 2, "deactivated": 0}
    assert sorted(CostCenter.objects.values_list("code", flat=True)) == ["200", "300"]
    assert GLAccount.objects.get().active is True  # not deactivated by a failed read
    event = AuditEvent.objects.filter(action="mappings.reference_refreshed").order_by("pk").last()
    assert event.after["failed"] == ["gl_accounts"]


def test_a_failed_cost_center_read_still_writes_the_gl_accounts(exact_connection):
    division = exact_connection.divisions.get()
    client = FakeClient([gl(1, "8000")], [], fail_cc=RemoteUnavailable("HTTP 503", status=503))
    with pytest.raises(ReferenceDataIncomplete) as caught:
        refresh_reference_data(division, client=client)
    assert set(caught.value.failures) == {"cost_centers"}
    assert GLAccount.objects.get().code == "8000"
    assert "the cost centers of division 101 (Division 101)" in caught.value.message


def test_the_failure_message_is_plain_words_grouped_over_divisions():
    from integrations.models import ExactDivision

    ams, rot = ExactDivision(code=101, name="Amsterdam"), ExactDivision(code=102, name="Rotterdam")
    raw = "This endpoint has mandatory filtering applied. A GET request for this endpoint must"
    refused = RemoteRejected(f"Exact Online answered HTTP 400 on financial/GLAccounts: {raw}")
    message, hint = failure_message([(ams, "gl_accounts", refused), (rot, "gl_accounts", refused)])
    assert f"{message} {hint}" == (
        "Could not read the GL accounts of divisions 101 (Amsterdam) and 102 (Rotterdam) from "
        "Exact Online: Exact refused the request. Try again later; if it keeps failing, "
        "reconnect Exact Online."
    )
    gone = ReconnectRequired("Old refresh token used.")
    message, hint = failure_message(
        [(ams, "gl_accounts", gone), (ams, "cost_centers", gone), (rot, "gl_accounts", refused)]
    )
    assert message == (
        "Could not read from Exact Online: the GL accounts and the cost centers of division "
        "101 (Amsterdam) (Exact Online did not accept this connection's authorization); "
        "the GL accounts of division 102 (Rotterdam) (Exact refused the request)."
    )
    assert "Reconnect Exact Online" in hint and "mandatory" not in message + hint
    assert "Old refresh token" not in message + hint


def test_refresh_all_reads_selected_divisions_of_connected_connections(mocked_http):
    conn = factories.make_exact_connection(divisions=(101, 102))
    conn.divisions.filter(code=102).update(selected=False)
    factories.make_exact_connection(
        name="Broken", divisions=(201,), exact_user_id="other", status=ConnectionStatus.NEEDS_REAUTH
    )
    api = f"{conn.base_url}/api/v1/101"
    mocked_http.get(
        f"{api}/sync/Financial/GLAccounts",
        json=page(
            [
                {
                    "ID": str(uuid.UUID(int=7)),
                    "Code": "8000",
                    "Description": "Omzet",
                    "IsBlocked": False,
                    "Timestamp": 4,
                }
            ]
        ),
    )
    mocked_http.get(
        f"{api}/hrm/Costcenters",
        json=page(
            [{"ID": str(uuid.UUID(int=8)), "Code": "200", "Description": "S", "EndDate": None}]
        ),
    )
    assert refresh_all_reference_data() == 1
    assert GLAccount.objects.get().division.code == 101
    assert CostCenter.objects.get().end_date is None


def test_refresh_all_reads_every_list_of_every_division_even_after_a_failure(mocked_http):
    conn = factories.make_exact_connection(divisions=(101, 102))
    api = conn.base_url + "/api/v1"
    refused = {"error": {"code": "", "message": {"lang": "", "value": "Bad filter"}}}
    for code in (101, 102):
        mocked_http.get(f"{api}/{code}/sync/Financial/GLAccounts", status=400, json=refused)
        mocked_http.get(
            f"{api}/{code}/hrm/Costcenters",
            json=page([{"ID": str(uuid.UUID(int=code)), "Code": str(code), "Description": "S"}]),
        )
    assert refresh_all_reference_data() == 0  # none complete
    assert sorted(CostCenter.objects.values_list("code", flat=True)) == ["101", "102"]
