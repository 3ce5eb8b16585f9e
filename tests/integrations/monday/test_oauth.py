"""Monday OAuth client: authorize URL and code exchange, no database."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from responses import matchers

from integrations.errors import ConfigurationError, UnexpectedResponse
from integrations.monday import oauth
from integrations.monday.errors import MondayAuthError, MondayServerError

AUTH = "https://auth.monday.test"
REDIRECT = "https://connector.example.test/integrations/monday/callback/"


@pytest.fixture(autouse=True)
def configured(settings):
    settings.MONDAY_CLIENT_ID = "cid"
    settings.MONDAY_CLIENT_SECRET = "csecret"
    settings.MONDAY_AUTH_URL = AUTH


def test_authorize_url_carries_client_redirect_state_and_scopes():
    url = urlparse(oauth.authorize_url(state="s-1", redirect_uri=REDIRECT))
    assert url.netloc == "auth.monday.test" and url.path == "/oauth2/authorize"
    assert parse_qs(url.query) == {
        "client_id": ["cid"],
        "redirect_uri": [REDIRECT],
        "state": ["s-1"],
        "scope": ["boards:read boards:write me:read"],
    }


def test_a_missing_client_id_is_a_configuration_error_when_used(settings):
    settings.MONDAY_CLIENT_ID = ""
    with pytest.raises(ConfigurationError):
        oauth.authorize_url(state="s", redirect_uri=REDIRECT)


def test_the_code_is_exchanged_for_a_token_that_never_shows_in_repr(mocked_http):
    mocked_http.post(
        f"{AUTH}/oauth2/token",
        json={"access_token": "acc-123456789", "token_type": "Bearer", "scope": "me:read"},
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "client_id": "cid",
                    "client_secret": "csecret",
                    "code": "c0de",
                    "redirect_uri": REDIRECT,
                }
            )
        ],
    )
    tokens = oauth.exchange_code(code="c0de", redirect_uri=REDIRECT)
    assert tokens.access_token == "acc-123456789" and tokens.scope == "me:read"
    assert "acc-123456789" not in repr(tokens)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"status": 400, "json": {"error": "invalid_grant"}}, MondayAuthError),
        ({"status": 503, "body": "down"}, MondayServerError),
        ({"status": 200, "body": "<html>"}, UnexpectedResponse),
        ({"body": requests.exceptions.ConnectTimeout()}, MondayServerError),
    ],
)
def test_a_failed_exchange_raises_a_typed_error_without_the_code(mocked_http, kwargs, error):
    mocked_http.post(f"{AUTH}/oauth2/token", **kwargs)
    with pytest.raises(error) as info:
        oauth.exchange_code(code="secret-code-XYZ", redirect_uri=REDIRECT)
    assert "secret-code-XYZ" not in str(info.value)
