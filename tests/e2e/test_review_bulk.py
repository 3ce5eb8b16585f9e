"""The review demo: a reviewer fixes 20 flagged items with one bulk mapping and one bulk
re-sync; all 20 items are updated in the Monday sandbox, and every step is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from integrations.models import RateBudget, SyncedRecord
from integrations.sync import subscriptions
from mappings.models import CostCenter, ValueMapping
from mappings.roles import ensure_finance_reviewer_group

pytestmark = pytest.mark.django_db

UNMAPPED = ["KP-200", "KP-300", "KP-400", "KP-500"]


@pytest.fixture
def reviewer(db):
    user = get_user_model().objects.create_user("fleur", "fleur@example.test", "x", is_staff=True)
    user.groups.add(ensure_finance_reviewer_group())
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def twenty_flagged(stack):
    """20 invoices over four project cost centers nobody has mapped yet: 20 flagged items."""
    stack.connect()
    stack.add_reference_data()  # GL 8000, 8100; cost centers KP-100, KP-200
    for code in UNMAPPED[1:]:
        stack.exact.add_cost_center(101, code, f"Project {code}")
    stack.refresh_reference_data()
    route = stack.route(create_labels_if_missing=True)
    stack.map(route, "gl_account", "8000", "8000 Revenue")
    stack.map(route, "cost_center", "KP-100", "KP-100")
    subscriptions.register_subscriptions()
    stack.exact.webhooks_enabled = True
    for n in range(20):
        stack.invoice(cc=UNMAPPED[n % 4], amounts=(100 + n,))
    assert stack.drain() == ["done"] * 20
    assert SyncedRecord.objects.filter(state=SyncedRecord.State.FLAGGED).count() == 20
    items = stack.items()
    assert len(items) == 20
    assert {i["texts"]["review"] for i in items} == {"Needs review"}
    assert not any(i["texts"].get("cost_center") for i in items)
    # The reviewer comes by later: the sync above spent most of this minute's 60 Exact calls
    # (the shared budget would rightly make the re-sync wait for the next minute).
    RateBudget.objects.update(minutely_reset_at=timezone.now() - timedelta(seconds=1))
    return route


def test_one_bulk_mapping_and_one_bulk_resync_fix_all_twenty(stack, twenty_flagged, reviewer):
    route = twenty_flagged
    user, client = reviewer
    queue = client.get("/admin/integrations/syncedrecord/review/")
    assert queue.status_code == 200
    assert "Flagged items: 20" in queue.content.decode()
    assert queue.context["ready"] == 0
    items_before = {i["id"] for i in stack.items()}

    # One bulk mapping: the four cost centers selected on the cost center page, one value.
    centers = CostCenter.objects.filter(code__in=UNMAPPED, division__code=101)
    assert centers.count() == 4
    form = client.post(
        "/admin/mappings/costcenter/",
        {"action": "bulk_map", "_selected_action": [c.pk for c in centers]},
    )
    assert form.status_code == 200 and "Map to one Monday.com value" in form.content.decode()
    applied = client.post(
        "/admin/mappings/costcenter/",
        {
            "action": "bulk_map",
            "_selected_action": [c.pk for c in centers],
            "apply": "1",
            "route": route.pk,
            "monday_value": "Projects",
        },
        follow=True,
    )
    assert applied.status_code == 200
    assert "Mapped 4 codes to “Projects”. 20 synced items use them" in applied.content.decode()
    assert ValueMapping.objects.filter(code__in=UNMAPPED, monday_value="Projects").count() == 4
    assert client.get("/admin/integrations/syncedrecord/review/").context["ready"] == 20

    # One bulk re-sync: "Re-sync the 20 mapped items".
    done = client.post("/admin/integrations/syncedrecord/review/resync-unblocked/", follow=True)
    assert "Re-synced 20 items: 20 cleared." in done.content.decode()
    assert "Flagged items: 0" in done.content.decode()

    # All 20 updated in place on the Monday sandbox (no new items), mapped and no longer flagged.
    items = stack.items()
    assert {i["id"] for i in items} == items_before
    assert {i["texts"]["cost_center"] for i in items} == {"Projects"}
    assert {i["texts"]["review"] for i in items} == {"OK"}
    assert SyncedRecord.objects.filter(state=SyncedRecord.State.SYNCED).count() == 20

    # Audited: who mapped what, who re-synced, and each item's update and unflagging.
    mapped = AuditEvent.objects.filter(action="mapping.set", actor_user=user)
    mapping_ids = ValueMapping.objects.filter(code__in=UNMAPPED).values_list("pk", flat=True)
    assert sorted(e.object_id for e in mapped) == sorted(str(pk) for pk in mapping_ids)
    assert {e.after["monday_value"] for e in mapped} == {"Projects"}
    resync = AuditEvent.objects.get(action="records.resynced", actor_user=user)
    assert resync.correlation_id == "admin:review"
    record_ids = {str(pk) for pk in SyncedRecord.objects.values_list("pk", flat=True)}
    for action in ("item.updated", "item.unflagged"):
        events = AuditEvent.objects.filter(action=action, correlation_id="admin:review")
        assert {e.object_id for e in events} == record_ids, action
        assert events.count() == 20, action
