import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from integrations.errors import RateLimited
from integrations.exact.entities import ExactCostCenter, ExactGLAccount
from integrations.models import ConnectionStatus
from mappings.models import CostCenter, GLAccount
from mappings.reference import refresh_all_reference_data, refresh_reference_data
from tests import factories
from tests.integrations.exact.rows import page

pytestmark = pytest.mark.django_db


class FakeClient:
    def __init__(self, gl, cc, fail=None):
        self.gl, self.cc, self.fail = gl, cc, fail

    def list_gl_accounts(self, division):
        if self.fail:
            raise self.fail
        return self.gl

    def list_cost_centers(self, division):
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


def test_a_failed_read_changes_nothing(exact_connection):
    division = exact_connection.divisions.get()
    refresh_reference_data(division, client=FakeClient([gl(1, "8000")], []))
    with pytest.raises(RateLimited):
        refresh_reference_data(
            division, client=FakeClient([], [], fail=RateLimited("low", retry_after=60))
        )
    assert GLAccount.objects.get().active is True


def test_refresh_all_reads_selected_divisions_of_connected_connections(mocked_http):
    conn = factories.make_exact_connection(divisions=(101, 102))
    conn.divisions.filter(code=102).update(selected=False)
    factories.make_exact_connection(
        name="Broken", divisions=(201,), exact_user_id="other", status=ConnectionStatus.NEEDS_REAUTH
    )
    api = f"{conn.base_url}/api/v1/101"
    mocked_http.get(
        f"{api}/financial/GLAccounts",
        json=page(
            [
                {
                    "ID": str(uuid.UUID(int=7)),
                    "Code": "8000",
                    "Description": "Omzet",
                    "IsBlocked": False,
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
