import json

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from integrations.models import Route
from mappings.models import ValueMapping

pytestmark = pytest.mark.django_db


def _add_mapping(route, code="8000", value="Catering"):
    return ValueMapping.objects.create(
        route=route,
        division=route.divisions.first(),
        kind="gl_account",
        code=code,
        monday_value=value,
    )


def test_export_then_import_round_trips_routes_and_mappings(route, tmp_path):
    route.columns = {"date": "date4", "amount": "numbers"}
    route.save()
    _add_mapping(route)
    path = tmp_path / "config.json"
    call_command("export_config", str(path))
    exported = json.loads(path.read_text())
    assert "token" not in path.read_text().lower()
    Route.objects.all().delete()
    call_command("import_config", str(path))
    again = Route.objects.get(name=route.name)
    assert again.columns == {"date": "date4", "amount": "numbers"}
    assert list(again.divisions.values_list("code", flat=True)) == [101]
    assert ValueMapping.objects.get(route=again).monday_value == "Catering"
    assert AuditEvent.objects.filter(action="route.imported").count() == 1
    assert exported["version"] == 1


def test_import_updates_by_name_and_replaces_mappings(route, tmp_path):
    _add_mapping(route, "8000", "Old")
    path = tmp_path / "config.json"
    call_command("export_config", str(path))
    data = json.loads(path.read_text())
    data["routes"][0]["mappings"][0]["monday_value"] = "New"
    data["routes"][0]["poll_interval_minutes"] = 5
    path.write_text(json.dumps(data))
    call_command("import_config", str(path))
    assert Route.objects.count() == 1
    assert Route.objects.get().poll_interval_minutes == 5
    assert list(ValueMapping.objects.values_list("monday_value", flat=True)) == ["New"]


def test_import_with_unknown_connection_changes_nothing(route, tmp_path):
    path = tmp_path / "config.json"
    call_command("export_config", str(path))
    data = json.loads(path.read_text())
    data["routes"][0]["monday_connection"] = "Elsewhere"
    data["routes"][0]["name"] = "Another"
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError, match="Elsewhere"):
        call_command("import_config", str(path))
    assert list(Route.objects.values_list("name", flat=True)) == [route.name]


def test_import_rejects_a_file_that_is_not_a_configuration(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    with pytest.raises(CommandError, match="not an ml-connector configuration"):
        call_command("import_config", str(path))
