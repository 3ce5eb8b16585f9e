"""Exact Online OAuth 2.0: authorize URL, code exchange, refresh. HTTP only, no database.

Locking and saving tokens live in integrations/exact/tokens.py. requests-oauthlib's
OAuth2Session is deliberately not used: its automatic refresh runs outside our row lock, and its
errors hide the status and body shape we must tell apart (reference §1.7). Three plain POSTs are
simpler to get exactly right.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.utils import timezone

from integrations.errors import (
    ConfigurationError,
    IntegrationError,
    RateLimited,
    ReconnectRequired,
    RemoteRejected,
    RemoteUnavailable,
    UnexpectedResponse,
)

logger = logging.getLogger(__name__)

TIMEOUT = (5, 30)
DEFAULT_EXPIRES_IN = 600
REAUTHORIZE_HINT = "Re-authorize the connection in the admin (Exact Online connections)."


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_in: int
    issued_at: datetime

    def __repr__(self) -> str:  # never print the secrets
        return f"TokenSet(expires_in={self.expires_in}, issued_at={self.issued_at.isoformat()})"


class RefreshTooEarly(RemoteRejected):
    """Exact refused a refresh because the current access token is younger than 570 s."""


def _client_credentials() -> tuple[str, str]:
    client_id = settings.EXACT_CLIENT_ID
    client_secret = settings.EXACT_CLIENT_SECRET
    if not client_id or not client_secret:
        raise ConfigurationError(
            "The Exact Online client id or secret is not configured.",
            hint="Set EXACT_CLIENT_ID and EXACT_CLIENT_SECRET.",
        )
    return client_id, client_secret


def authorize_url(base_url: str, *, redirect_uri: str, state: str) -> str:
    """The URL that sends the browser to Exact's consent screen."""
    client_id, _ = _client_credentials()
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "state": state,
            "force_login": "0",
        }
    )
    # Reference: https://support.exactonline.com/community/s/knowledge-base#All-All-DNO-Content-oauth-eol-oauth-devstep2
    return f"{base_url.rstrip('/')}/api/oauth2/auth?{query}"


def exchange_code(base_url: str, *, code: str, redirect_uri: str) -> TokenSet:
    """Trade an authorization code (single use, 3 minutes) for tokens.

    Raises RemoteRejected (code refused: restart the flow), ConfigurationError (client refused),
    RemoteUnavailable, UnexpectedResponse.
    """
    client_id, client_secret = _client_credentials()
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    return _token_request(base_url, data, purpose="exchange")


def refresh(base_url: str, *, refresh_token: str) -> TokenSet:
    """Use the refresh token once (it rotates). Raises ReconnectRequired when Exact rejects it
    (old token used, expired, revoked), RefreshTooEarly inside the first 570 s,
    RemoteUnavailable/RateLimited when worth retrying later.
    """
    client_id, client_secret = _client_credentials()
    data = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
        "client_secret": client_secret,
    }
    return _token_request(base_url, data, purpose="refresh")


def _token_request(base_url: str, data: dict[str, str], *, purpose: str) -> TokenSet:
    url = f"{base_url.rstrip('/')}/api/oauth2/token"
    try:
        # Reference: https://support.exactonline.com/community/s/knowledge-base#All-All-DNO-Content-oauth-eol-oauth-devstep3
        response = requests.post(
            url, data=data, headers={"Accept": "application/json"}, timeout=TIMEOUT
        )
    except requests.RequestException as exc:
        logger.warning("exact.oauth.%s.unreachable", purpose, extra={"error": type(exc).__name__})
        raise RemoteUnavailable(
            "Exact Online's token endpoint could not be reached.", hint="Try again in a minute."
        ) from exc
    if response.status_code == 200:
        return _parse_tokens(response)
    raise _token_error(response, purpose=purpose)


def _parse_tokens(response: requests.Response) -> TokenSet:
    try:
        body = response.json()
        access, refresh_token = body["access_token"], body["refresh_token"]
        # expires_in is the string "600" on Exact (reference §1.4).
        expires_in = int(body.get("expires_in") or DEFAULT_EXPIRES_IN)
    except (ValueError, KeyError, TypeError) as exc:
        logger.error("exact.oauth.unexpected_token_response", extra={"shape": _shape(response)})
        raise UnexpectedResponse("Exact Online's token answer could not be read.") from exc
    if not access or not refresh_token:
        raise UnexpectedResponse("Exact Online's token answer had no tokens.")
    return TokenSet(access, refresh_token, expires_in, timezone.now())


def _shape(response: requests.Response) -> dict:
    return {"status": response.status_code, "content_type": response.headers.get("Content-Type")}


def _error_fields(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error") or ""), str(body.get("error_description") or "")


def token_error_reason(response: requests.Response) -> str:
    """The error code plus a safe description. Descriptions are Exact's fixed sentences; the
    refresh-expired one carries dates only. They never contain our tokens."""
    error, description = _error_fields(response)
    return f"{error}: {description}".strip(": ") or f"HTTP {response.status_code}"


def _token_error(response: requests.Response, *, purpose: str) -> IntegrationError:
    status = response.status_code
    error, description = _error_fields(response)
    reason = token_error_reason(response)
    logger.warning(
        "exact.oauth.%s.refused", purpose, extra={"status": status, "error": error or None}
    )
    if status >= 500:
        return RemoteUnavailable(
            f"Exact Online's token endpoint failed (HTTP {status}).", hint="Try again later."
        )
    if status == 429:
        return RateLimited(
            "Exact Online limits token requests right now.", retry_after=60.0, status=status
        )
    reason_header = response.headers.get("Reason", "")
    if purpose == "refresh":
        if "TooEarlyToRefreshTokens" in reason_header or "not expired" in description:
            return RefreshTooEarly(
                "Exact Online refused a refresh: the access token is younger than 570 seconds.",
                status=status,
            )
        # unauthorized_client "Old refresh token used.", invalid_grant, invalid_request
        # "The refresh token expired at …": only a new browser authorization helps (§1.7).
        return ReconnectRequired(
            f"Exact Online rejected the refresh token ({reason}).",
            hint=REAUTHORIZE_HINT,
            status=status,
        )
    if error == "invalid_client":
        return ConfigurationError(
            "Exact Online refused the app's client id or secret.",
            hint="Check EXACT_CLIENT_ID and EXACT_CLIENT_SECRET for this region.",
            status=status,
        )
    return RemoteRejected(
        f"Exact Online refused the authorization code ({reason}).",
        hint="Start the connection again; a code is valid for 3 minutes and only once.",
        status=status,
    )
