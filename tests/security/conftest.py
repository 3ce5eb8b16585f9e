"""The cast for security tests: a Finance reviewer, and the served sandboxes of tests/e2e."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model


@pytest.fixture(autouse=True)
def _fast_backoff(fast_backoff):
    """The shared `stack` (tests/conftest.py) with the clients' waits shrunk."""


@pytest.fixture
def reviewer(db):
    """Staff, in the "Finance reviewer" group and nothing else."""
    from mappings.roles import ensure_finance_reviewer_group

    user = get_user_model().objects.create_user(
        "reviewer", "reviewer@example.test", "pw-reviewer-123", is_staff=True
    )
    user.groups.add(ensure_finance_reviewer_group())
    return user
