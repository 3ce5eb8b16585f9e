"""The sandbox stack of tests/e2e, connected and routed, for fault-injection tests."""

from __future__ import annotations

import pytest

from integrations.sync import subscriptions


@pytest.fixture(autouse=True)
def _fast_backoff(fast_backoff):
    """Faults never cost seconds: the clients' retry policy runs with its waits shrunk."""


def make_live(stack, *, divisions=((101, "Amsterdam"),), webhooks=True, **route_fields):
    """Connected, reference data loaded, a route with its mappings, webhooks subscribed."""
    stack.connect(divisions=divisions)
    stack.add_reference_data()
    route = stack.route(**route_fields)
    stack.map(route, "gl_account", "8000", "8000 Revenue")
    stack.map(route, "gl_account", "8100", "8100 Services")
    stack.map(route, "cost_center", "KP-100", "KP-100")
    stack.map(route, "cost_center", "KP-200", "KP-200")
    if webhooks:
        subscriptions.register_subscriptions()
        stack.exact.webhooks_enabled = True
    return stack


@pytest.fixture
def live(stack):
    return make_live(stack)


def item_keys(stack) -> list[str]:
    """The Exact key column of every active item on the board (duplicates kept)."""
    return [item["texts"].get("exact_key", "") for item in stack.items()]
