import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from mappings import services
from mappings.models import GLAccount, ValueMapping
from tests.factories import make_gl_accounts, make_synced_record

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:mappings_glaccount_changelist"


@pytest.fixture
def accounts(route):
    return make_gl_accounts(route.divisions.first())


def test_changelist_shows_the_value_each_code_maps_to_per_route(admin_client, route, accounts):
    services.set_mappings(route, accounts[0].division, "gl_account", ["8000"], "Catering")
    page = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert f"{route.name}: <b>Catering</b>" in page


def test_unmapped_filter_lists_only_codes_without_a_mapping(admin_client, route, accounts):
    services.set_mappings(route, accounts[0].division, "gl_account", ["8000"], "Catering")
    response = admin_client.get(reverse(CHANGELIST) + "?mapped=no")
    codes = [row.code for row in response.context["cl"].result_list]
    assert sorted(codes) == ["4000", "8100"]


def test_inactive_filter_and_search_by_description(admin_client, route, accounts):
    GLAccount.objects.filter(code="4000").update(active=False)
    inactive = admin_client.get(reverse(CHANGELIST) + "?active__exact=0").context["cl"].result_list
    assert [a.code for a in inactive] == ["4000"]
    found = admin_client.get(reverse(CHANGELIST) + "?q=Account+8100").context["cl"].result_list
    assert [a.code for a in found] == ["8100"]


def test_bulk_mapping_sets_one_value_for_many_codes_audited_and_counts_affected_items(
    admin_client, route, accounts
):
    make_synced_record(route, key="k1", gl="8000", number="1")
    make_synced_record(route, key="k2", gl="8100", number="2")
    response = admin_client.post(
        reverse(CHANGELIST),
        {
            "action": "bulk_map",
            "_selected_action": [a.pk for a in accounts[:2]],
            "apply": "1",
            "route": route.pk,
            "monday_value": "Overhead",
        },
        follow=True,
    )
    assert set(ValueMapping.objects.values_list("code", "monday_value")) == {
        ("8000", "Overhead"),
        ("8100", "Overhead"),
    }
    assert "2 synced items use them" in response.content.decode()
    events = AuditEvent.objects.filter(action="mapping.set")
    assert events.count() == 2 and {e.actor for e in events} == {"admin"}
    # The audit names the code ("code" alone is redacted everywhere as an OAuth code).
    assert {e.after["exact_code"] for e in events} == {"8000", "8100"}


def test_unblocked_records_are_those_whose_codes_are_all_mapped_now(route, accounts):
    ready = make_synced_record(route, key="k1", gl="8000", number="1")
    make_synced_record(route, key="k2", gl="8100", number="2")
    services.set_mappings(route, accounts[0].division, "gl_account", ["8000"], "Catering")
    assert list(services.unblocked_records()) == [ready]


def test_csv_export_then_import_round_trip(admin_client, route, accounts):
    services.set_mappings(route, accounts[0].division, "gl_account", ["8000"], "Catering")
    exported = admin_client.post(
        reverse("admin:mappings_valuemapping_changelist"),
        {
            "action": "export_csv",
            "_selected_action": list(ValueMapping.objects.values_list("pk", flat=True)),
        },
    ).content.decode()
    assert exported.splitlines()[1] == f"{route.name},101,gl_account,8000,Catering"
    ValueMapping.objects.all().delete()
    upload = SimpleUploadedFile("m.csv", exported.replace("Catering", "Food").encode())
    admin_client.post(reverse("admin:mappings_import_csv"), {"file": upload})
    assert ValueMapping.objects.get().monday_value == "Food"


def test_csv_import_with_a_bad_row_imports_nothing_and_says_which_line(
    admin_client, route, accounts
):
    text = f"route,division,kind,code,monday_value\n{route.name},101,gl_account,8000,A\nNope,101,gl_account,1,B\n"
    response = admin_client.post(
        reverse("admin:mappings_import_csv"),
        {"file": SimpleUploadedFile("m.csv", text.encode())},
        follow=True,
    )
    assert "Line 3" in response.content.decode()
    assert ValueMapping.objects.count() == 0


def test_reference_rows_cannot_be_added_or_deleted_in_the_admin(admin_client, accounts):
    assert admin_client.get(reverse("admin:mappings_glaccount_add")).status_code == 403
    url = reverse("admin:mappings_glaccount_delete", args=[accounts[0].pk])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
