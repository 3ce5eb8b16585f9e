"""Both clients wait through integrations.waits.sleep unless given their own `sleep`."""

from __future__ import annotations

import responses

from integrations import waits
from integrations.exact.client import ExactClient
from integrations.monday.client import MondayClient

URL = "https://api.monday.test/v2"


@responses.activate
def test_a_client_built_without_sleep_waits_through_the_waits_seam(monkeypatch):
    waited: list[float] = []
    monkeypatch.setattr(waits, "sleep", waited.append)
    responses.post(
        URL,
        status=429,
        headers={"Retry-After": "7"},
        json={"errors": [{"message": "x", "extensions": {"code": "RATE_LIMIT_EXCEEDED"}}]},
    )
    responses.post(URL, json={"data": {"me": {"id": "1"}}})
    assert MondayClient(token="t", api_url=URL).execute("{ me { id } }") == {"me": {"id": "1"}}
    assert waited == [7.0]
    assert ExactClient("https://exact.test", token_source=lambda force: "t").sleep == waited.append


def test_a_sleep_handed_in_wins_over_the_seam(monkeypatch):
    monkeypatch.setattr(waits, "sleep", lambda seconds: None)
    own = [].append
    assert ExactClient("https://exact.test", token_source=lambda f: "t", sleep=own).sleep == own
    assert MondayClient(token="t", api_url=URL, sleep=own)._sleep == own
