from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import override_settings
from responses import matchers

from integrations.errors import (
    ConfigurationError,
    ReconnectRequired,
    RemoteRejected,
    RemoteUnavailable,
    UnexpectedResponse,
)
from integrations.exact import oauth
from tests.integrations.exact.conftest import BASE

TOKEN_URL = f"{BASE}/api/oauth2/token"
REDIRECT = "https://connector.example.test/integrations/exact/callback/"
GOOD = {
    "access_token": "AAEAA-new",
    "token_type": "bearer",
    "expires_in": "600",
    "refresh_token": "Gcp7!IAA-new",
}


@override_settings(EXACT_CLIENT_ID="cid", EXACT_CLIENT_SECRET="csecret")
def test_authorize_url_carries_client_redirect_and_state():
    url = oauth.authorize_url(BASE + "/", redirect_uri=REDIRECT, state="st4te")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE}/api/oauth2/auth"
    assert parse_qs(parts.query) == {
        "client_id": ["cid"],
        "redirect_uri": [REDIRECT],
        "response_type": ["code"],
        "state": ["st4te"],
        "force_login": ["0"],
    }


@override_settings(EXACT_CLIENT_ID="", EXACT_CLIENT_SECRET="")
def test_missing_client_credentials_raise_configuration_error_when_used():
    with pytest.raises(ConfigurationError):
        oauth.authorize_url(BASE, redirect_uri=REDIRECT, state="s")


@override_settings(EXACT_CLIENT_ID="cid", EXACT_CLIENT_SECRET="csecret")
def test_exchange_code_posts_the_form_and_parses_string_expiry(mocked_http):
    mocked_http.post(
        TOKEN_URL,
        json=GOOD,
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "authorization_code",
                    "code": "c0de!",
                    "redirect_uri": REDIRECT,
                    "client_id": "cid",
                    "client_secret": "csecret",
                }
            )
        ],
    )
    tokens = oauth.exchange_code(BASE, code="c0de!", redirect_uri=REDIRECT)
    assert (tokens.access_token, tokens.refresh_token, tokens.expires_in) == (
        "AAEAA-new",
        "Gcp7!IAA-new",
        600,
    )
    assert "AAEAA" not in repr(tokens) and "Gcp7" not in repr(tokens)


@override_settings(EXACT_CLIENT_ID="cid", EXACT_CLIENT_SECRET="csecret")
def test_refresh_posts_the_refresh_grant(mocked_http):
    mocked_http.post(
        TOKEN_URL,
        json=GOOD,
        match=[
            matchers.urlencoded_params_matcher(
                {
                    "grant_type": "refresh_token",
                    "refresh_token": "old-rt",
                    "client_id": "cid",
                    "client_secret": "csecret",
                }
            )
        ],
    )
    assert oauth.refresh(BASE, refresh_token="old-rt").refresh_token == "Gcp7!IAA-new"


@pytest.mark.parametrize(
    "status,body,error",
    [
        (
            401,
            {"error": "unauthorized_client", "error_description": "Old refresh token used."},
            ReconnectRequired,
        ),
        (
            400,
            {
                "error": "invalid_request",
                "error_description": "The refresh token expired at 1-1-2026 and it is now 2-2-2026",
            },
            ReconnectRequired,
        ),
        (400, {"error": "invalid_grant"}, ReconnectRequired),
        (503, {}, RemoteUnavailable),
    ],
)
@override_settings(EXACT_CLIENT_ID="cid", EXACT_CLIENT_SECRET="csecret")
def test_refresh_errors_map_to_what_the_caller_must_do(mocked_http, status, body, error):
    mocked_http.post(TOKEN_URL, status=status, json=body)
    with pytest.raises(error) as caught:
        oauth.refresh(BASE, refresh_token="old-rt-SECRET")
    assert "old-rt-SECRET" not in str(caught.value)


@override_settings(EXACT_CLIENT_ID="cid", EXACT_CLIENT_SECRET="csecret")
def test_too_early_refresh_is_told_apart(mocked_http):
    mocked_http.post(
        TOKEN_URL,
        status=400,
        headers={"Reason": "TooEarlyToRefreshTokens: x"},
        json={
            "error": "access_denied",
            "error_description": "Rate limit exceeded: access_token not expired",
        },
    )
    with pytest.raises(oauth.RefreshTooEarly):
        oauth.refresh(BASE, refresh_token="rt")


@override_settings(EXACT_CLIENT_ID="cid", EXACT_CLIENT_SECRET="csecret")
def test_a_refused_code_says_to_start_again_without_echoing_the_code(mocked_http):
    mocked_http.post(TOKEN_URL, status=400, body="Bad Request")
    with pytest.raises(RemoteRejected) as caught:
        oauth.exchange_code(BASE, code="SECRET-CODE", redirect_uri=REDIRECT)
    assert "SECRET-CODE" not in str(caught.value) and "again" in caught.value.hint


@override_settings(EXACT_CLIENT_ID="cid", EXACT_CLIENT_SECRET="csecret")
def test_a_refused_client_is_a_configuration_error(mocked_http):
    mocked_http.post(TOKEN_URL, status=401, json={"error": "invalid_client"})
    with pytest.raises(ConfigurationError):
        oauth.exchange_code(BASE, code="c", redirect_uri=REDIRECT)


@override_settings(EXACT_CLIENT_ID="cid", EXACT_CLIENT_SECRET="csecret")
def test_unreachable_token_endpoint_and_bad_answers(mocked_http):
    def boom(request):
        raise requests.ConnectionError("refused")

    mocked_http.add_callback("POST", TOKEN_URL, callback=boom)
    with pytest.raises(RemoteUnavailable):
        oauth.refresh(BASE, refresh_token="rt")
    mocked_http.replace("POST", TOKEN_URL, json={"access_token": "only"})
    with pytest.raises(UnexpectedResponse):
        oauth.refresh(BASE, refresh_token="rt")
