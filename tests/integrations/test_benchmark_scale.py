"""benchmark --workers: what the scale phase says binds, from the sampled request logs."""

from types import SimpleNamespace

import pytest

from integrations.benchmark.scale import Sampler, binding_limit, scale_table


def step(**over):
    base = {
        "monday_budget_used": 0.3,
        "monday_points": 3_000_000,
        "monday_budget": 10_000_000,
        "exact_busiest_division_calls": 10,
    }
    return {**base, **over}


def test_monday_binds_only_when_the_burst_needed_more_than_a_minute_of_budget():
    assert "Monday.com" in binding_limit(step(monday_budget_used=0.95, monday_points=12_000_000))
    # A burst that fits one window used most of it but never waited for Monday.
    assert "workers" in binding_limit(step(monday_budget_used=0.95, monday_points=9_500_000))


def test_exact_binds_when_one_division_nears_sixty_calls_a_minute():
    assert "Exact Online" in binding_limit(step(exact_busiest_division_calls=55))
    assert "workers" in binding_limit(step(exact_busiest_division_calls=20))


def test_the_busiest_minute_is_measured_over_sixty_seconds_of_samples():
    world = SimpleNamespace(
        monday=SimpleNamespace(requests=[], budget_per_minute=10_000_000),
        exact=SimpleNamespace(calls=[]),
    )
    sampler = Sampler(world)
    sampler.samples = [
        (0.0, 0, {}),
        (30.0, 4_000_000, {"101": 20}),
        (60.0, 9_000_000, {"101": 50, "102": 5}),
        (120.0, 10_000_000, {"101": 52, "102": 45}),
    ]
    busiest = sampler.busiest_minute()
    assert busiest["monday_busiest_minute_points"] == 9_000_000
    assert busiest["monday_budget_used"] == 0.9
    assert busiest["exact_busiest_division_calls"] == 50
    assert busiest["monday_points"] == 10_000_000


def test_the_table_has_a_row_per_worker_count():
    steps = [
        {
            "workers": w,
            "events": 400,
            "drain_s": 10.0,
            "events_per_s": 40.0,
            "exact_calls": 60,
            "exact_refused": 0,
            "exact_busiest_division_calls": 3,
            "monday_requests": 20,
            "monday_refused": 0,
            "monday_budget_used": 0.5,
            "binds": "the workers",
        }
        for w in (1, 2, 4)
    ]
    lines = scale_table({"steps": steps}).splitlines()
    assert len(lines) == 5 and lines[2].startswith("| 1 | 400 | 10.0 | 40.0 |")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_toy_scale_run_drains_every_division_into_one_item_per_invoice():
    from integrations.benchmark.scale import DIVISIONS, run_scale

    result = run_scale([2], latency=0, per_division=2, q_poll=0.1, progress=lambda line: None)
    (step,) = result["steps"]
    assert step["workers"] == 2 and step["events"] == 2 * DIVISIONS
    assert step["event_states"] == {"done": 2 * DIVISIONS} and step["undrained"] == 0
    assert step["items_on_board"] == step["distinct_items"] == step["synced_records"] == 40
    assert step["exact_refused"] == step["monday_refused"] == 0
    assert step["exact_busiest_division_calls"] >= 1 and step["binds"].startswith("the workers")
