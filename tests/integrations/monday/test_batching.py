"""Pure batch packing: estimated complexity under the ceiling, aliases m0..mN with variables."""

from __future__ import annotations

import pytest

from integrations.monday.batching import (
    DEFAULT_CEILING,
    MAX_QUERY_COMPLEXITY,
    Operation,
    batch_cost,
    build_document,
    estimate_cost,
    pack,
)


def op(i: int) -> Operation:
    return Operation("create_item", {"board_id": "1", "item_name": f"n{i}"}, ref=str(i))


def test_a_create_item_costs_about_thirty_thousand_points():
    assert 30_000 < estimate_cost(op(0)) < 30_100


def test_the_default_ceiling_stays_well_under_mondays_per_query_limit():
    assert DEFAULT_CEILING * 3 <= MAX_QUERY_COMPLEXITY


@pytest.mark.parametrize("ceiling", [100_000, 500_000, DEFAULT_CEILING])
def test_every_packed_batch_stays_under_the_ceiling_and_keeps_order(ceiling):
    ops = [op(i) for i in range(200)]
    batches = pack(ops, ceiling=ceiling, max_aliases=1000)
    assert all(batch_cost(b) <= ceiling for b in batches)
    assert [o for b in batches for o in b] == ops
    # Packed tight: adding the next op to any batch would cross the ceiling.
    assert all(batch_cost([*b, op(0)]) > ceiling for b in batches[:-1])


def test_max_aliases_caps_a_batch_even_under_the_ceiling():
    assert [len(b) for b in pack([op(i) for i in range(25)], max_aliases=10)] == [10, 10, 5]


def test_the_document_names_aliases_m0_to_mn_and_passes_values_as_variables():
    document, variables = build_document([op(0), op(1)])
    assert "m0: create_item(board_id: $m0_board_id, item_name: $m0_item_name)" in document
    assert "m1: create_item(" in document
    assert variables == {
        "m0_board_id": "1",
        "m0_item_name": "n0",
        "m1_board_id": "1",
        "m1_item_name": "n1",
    }
    assert "n0" not in document


def test_an_unknown_field_or_argument_is_refused():
    with pytest.raises(ValueError):
        Operation("delete_board", {"board_id": "1"})
    with pytest.raises(ValueError):
        Operation("create_item", {"board": "1"})


def test_an_empty_batch_has_no_document():
    with pytest.raises(ValueError):
        build_document([])
