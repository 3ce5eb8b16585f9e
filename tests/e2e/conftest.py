"""End-to-end tests use the `stack` fixture (tests/conftest.py) built on tests/stack.py."""

import pytest


@pytest.fixture(autouse=True)
def _fast_backoff(fast_backoff):
    """Every e2e test runs against the sandboxes with the clients' waits shrunk."""
