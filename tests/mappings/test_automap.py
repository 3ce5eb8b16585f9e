"""Mapping codes onto the board labels that name them (the demo's defaults, and any board that
labels its GL account and cost center columns with Exact's codes)."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from mappings.automap import label_naming, map_matching_labels
from mappings.models import ValueMapping

pytestmark = pytest.mark.django_db


def test_a_label_names_a_code_when_it_is_the_code_or_starts_with_it_and_a_space():
    labels = ("8000 Revenue", "8100 Services", "P10", "P101")
    assert label_naming("8000", labels) == "8000 Revenue"
    assert label_naming("P101", labels) == "P101"
    assert label_naming("P10", labels) == "P10"
    assert label_naming("800", labels) is None  # a prefix of a code is not the code
    assert label_naming("9999", labels) is None


def test_codes_with_a_label_of_their_own_are_mapped_the_rest_left_for_review(stack):
    s = stack.connect()
    s.add_reference_data()  # GL 8000, 8100; cost centers KP-100, KP-200
    s.exact.add_cost_center(101, "KP-300", "Project Dune")  # the board has no label for it
    s.refresh_reference_data()
    route = s.route()
    s.map(route, "gl_account", "8100", "8000 Revenue")  # someone's choice: kept

    result = map_matching_labels(route, user=s.user)

    mapped = dict(ValueMapping.objects.filter(route=route).values_list("code", "monday_value"))
    assert mapped == {
        "8000": "8000 Revenue",
        "8100": "8000 Revenue",
        "KP-100": "KP-100",
        "KP-200": "KP-200",
    }
    assert (result.mapped, result.unmatched) == (3, 1)
    assert AuditEvent.objects.filter(action="mapping.set").count() == 4  # 1 by hand + 3
    again = map_matching_labels(route, user=s.user)
    assert (again.mapped, again.unmatched) == (0, 1)


def test_the_route_action_maps_new_codes_and_says_how_many_are_left(stack, client):
    s = stack.connect()
    s.add_reference_data()
    route = s.route()
    client.force_login(s.user)
    s.exact.add_cost_center(101, "KP-300", "Project Dune")  # no label of its own on the board
    s.refresh_reference_data()

    response = client.post(
        "/admin/integrations/route/",
        {"action": "map_matching_labels", "_selected_action": [route.pk]},
        follow=True,
    )

    text = " ".join(str(m) for m in response.context["messages"])
    assert "Mapped 4 codes to the board's labels." in text
    assert "1 code has no label of its own on the board" in text
    assert ValueMapping.objects.filter(route=route, code="KP-300").count() == 0
