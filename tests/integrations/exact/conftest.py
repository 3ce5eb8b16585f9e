from __future__ import annotations

import pytest

from integrations.exact.client import ExactClient

BASE = "https://start.exactonline.nl"
API = f"{BASE}/api/v1"


class Tokens:
    """A token source that records whether each call followed a 401, and the refused token."""

    def __init__(self):
        self.calls: list[bool] = []
        self.rejected: list[str | None] = []

    def __call__(self, rejected: str | None) -> str:
        self.calls.append(rejected is not None)
        self.rejected.append(rejected)
        return f"tok-{len([c for c in self.calls if c]) + 1}"


@pytest.fixture
def tokens():
    return Tokens()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def make_client(tokens, sleeps):
    def build(*, budget=None, sleep=None):
        return ExactClient(
            BASE,
            token_source=tokens,
            budget=budget,
            sleep=sleep or sleeps.append,
            jitter=lambda: 0.5,
        )

    return build
