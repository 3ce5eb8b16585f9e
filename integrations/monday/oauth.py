"""Monday.com OAuth 2.0: the authorize URL and the code exchange. No database."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import requests
from django.conf import settings

from integrations.errors import ConfigurationError, UnexpectedResponse
from integrations.monday.errors import MondayAuthError, MondayServerError

SCOPES = "boards:read boards:write me:read"
TIMEOUT = (5, 30)


@dataclass(frozen=True)
class MondayTokenSet:
    """Monday access tokens do not expire until revoked, and come without a refresh token."""

    access_token: str = field(repr=False)
    token_type: str = "Bearer"
    scope: str = ""


def _client_id() -> str:
    if not settings.MONDAY_CLIENT_ID:
        raise ConfigurationError(
            "Monday.com OAuth is not configured.",
            hint="Set MONDAY_CLIENT_ID and MONDAY_CLIENT_SECRET, or paste a personal API token.",
        )
    return settings.MONDAY_CLIENT_ID


def authorize_url(*, state: str, redirect_uri: str) -> str:
    """Where to send the browser; Monday comes back to `redirect_uri` with `code` and `state`."""
    # Reference: https://developer.monday.com/apps/docs/oauth
    query = urlencode(
        {"client_id": _client_id(), "redirect_uri": redirect_uri, "state": state, "scope": SCOPES}
    )
    return f"{settings.MONDAY_AUTH_URL}/oauth2/authorize?{query}"


def exchange_code(
    *, code: str, redirect_uri: str, session: requests.Session | None = None
) -> MondayTokenSet:
    """Trade the authorization code for an access token. Raises MondayAuthError when refused."""
    client_id = _client_id()
    if not settings.MONDAY_CLIENT_SECRET:
        raise ConfigurationError("MONDAY_CLIENT_SECRET is not set.")
    http = session or requests.Session()
    try:
        # Reference: https://developer.monday.com/apps/docs/oauth#step-4-exchange-the-code
        response = http.post(
            f"{settings.MONDAY_AUTH_URL}/oauth2/token",
            data={
                "client_id": client_id,
                "client_secret": settings.MONDAY_CLIENT_SECRET,
                "code": code,
                "redirect_uri": redirect_uri,
            },
            timeout=TIMEOUT,
        )
    except requests.RequestException as exc:
        raise MondayServerError("Monday.com could not be reached for the token exchange.") from exc
    if response.status_code >= 500:
        raise MondayServerError(
            f"Monday.com's token endpoint failed (HTTP {response.status_code})."
        )
    if response.status_code >= 400:
        raise MondayAuthError(
            "Monday.com refused the authorization.",
            hint="Start the Monday.com connection again.",
            status=response.status_code,
        )
    try:
        body = response.json()
        token = str(body["access_token"])
    except (ValueError, KeyError, TypeError) as exc:
        raise UnexpectedResponse("Monday.com's token answer had no access token.") from exc
    return MondayTokenSet(
        access_token=token,
        token_type=str(body.get("token_type") or "Bearer"),
        scope=str(body.get("scope") or ""),
    )
