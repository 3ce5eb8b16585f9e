"""Exact Online's OAuth 2.0 server as the sandbox plays it (reference §1.3-§1.8).

Codes live 3 minutes and are single use; access tokens live 600 s and only the newest of a chain
is valid (reported by Flowgear); a refresh before 570 s is refused with TooEarlyToRefreshTokens;
every refresh rotates the refresh token, reusing an old one answers 401 "Old refresh token used."
and kills the chain; a refresh token unused for 30 days expires; a second authorization by the
same user obsoletes the older chain (reported by Invantive). Not thread-safe by itself.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from urllib.parse import urlencode

ACCESS_LIFETIME = timedelta(seconds=600)
EARLIEST_REFRESH = timedelta(seconds=570)
REFRESH_IDLE = timedelta(days=30)
CODE_LIFETIME = timedelta(minutes=3)
CHAIN_ERROR = "Token is not allowed, because of invalid or empty chainId"


@dataclass
class Chain:
    id: str
    user_id: str
    divisions: frozenset[int] | None  # None: every division (consent skipped in tests)
    access_token: str
    access_issued: datetime
    refresh_token: str
    refresh_issued: datetime
    alive: bool = True
    obsolete: bool = False  # a newer authorization by the same user exists: refresh is refused
    old_refresh: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class TokenAnswer:
    status: int
    body: dict
    outcome: str
    headers: dict = field(default_factory=dict)


def _error(status: int, error: str, description: str, outcome: str, **headers) -> TokenAnswer:
    return TokenAnswer(status, {"error": error, "error_description": description}, outcome, headers)


class TokenAuthority:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        user_id: str,
        redirect_uris: list[str] | None = None,
        early_refresh: bool = True,  # False: the 570 s rule is off (ExactSandbox limits_off)
    ) -> None:
        self.client_id = client_id
        self.early_refresh = early_refresh
        self.client_secret = client_secret
        self.user_id = user_id
        self.redirect_uris = redirect_uris
        self.codes: dict[str, dict] = {}
        self.chains: dict[str, Chain] = {}
        self.by_access: dict[str, str] = {}
        self.by_refresh: dict[str, str] = {}

    # -- the browser step ---------------------------------------------------------------------
    def check_authorize(self, params: dict[str, str]) -> str | None:
        """Why an authorization request is refused, or None."""
        if params.get("client_id") != self.client_id:
            return "The client_id is unknown."
        if params.get("response_type") != "code":
            return "Only response_type=code is supported."
        uri = params.get("redirect_uri", "")
        if not uri:
            return "The redirect_uri is missing."
        if self.redirect_uris is not None and uri not in self.redirect_uris:
            return "The redirect_uri does not match the registered one."
        return None

    def consent_page(self, action: str, params: dict[str, str], divisions: dict[int, str]) -> str:
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{escape(params.get(k, ""))}">'
            for k in ("client_id", "redirect_uri", "response_type", "state")
        )
        boxes = "".join(
            f'<label><input type="checkbox" name="division" value="{code}" checked> '
            f"{code} {escape(name)}</label><br>"
            for code, name in divisions.items()
        )
        return (
            "<!DOCTYPE html><html><head><title>Exact Online sandbox - authorize</title></head>"
            "<body><h1>Exact Online (sandbox)</h1>"
            "<p>ml-connector wants to read your administrations.</p>"
            f'<form method="post" action="{escape(action)}">{hidden}'
            f"<fieldset><legend>Administrations</legend>{boxes}</fieldset>"
            '<button type="submit" name="decision" value="approve" id="approve">Approve</button> '
            '<button type="submit" name="decision" value="cancel" id="cancel">Cancel</button>'
            "</form></body></html>"
        )

    def decide(self, form: dict[str, list[str]], now: datetime) -> str:
        """The redirect target after the user pressed Approve or Cancel."""
        params = {k: v[0] for k, v in form.items()}
        uri, state = params["redirect_uri"], params.get("state")
        if params.get("decision") == "approve":
            divisions = frozenset(int(d) for d in form.get("division", []))
            query = {"code": self.issue_code(uri, now, divisions)}
        else:
            query = {"error": "access_denied"}
        if state is not None:
            query["state"] = state
        return uri + ("&" if "?" in uri else "?") + urlencode(query)

    def issue_code(
        self, redirect_uri: str, now: datetime, divisions: frozenset[int] | None = None
    ) -> str:
        # Exact's codes contain '!' and must be URL-decoded before the exchange (§1.3).
        code = f"stampNL001.{secrets.token_urlsafe(12)}!{secrets.token_urlsafe(24)}"
        self.codes[code] = {
            "redirect_uri": redirect_uri,
            "issued": now,
            "used": False,
            "divisions": divisions,
        }
        return code

    # -- the token endpoint -------------------------------------------------------------------
    def token(self, form: dict[str, str], now: datetime) -> TokenAnswer:
        if form.get("client_id") != self.client_id or not secrets.compare_digest(
            form.get("client_secret", ""), self.client_secret
        ):
            # Unconfirmed: Exact's exact answer to wrong client credentials.
            return _error(401, "invalid_client", "Client authentication failed.", "invalid_client")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._exchange(form, now)
        if grant == "refresh_token":
            return self._refresh(form.get("refresh_token", ""), now)
        return _error(
            400,
            "unsupported_grant_type",
            "The grant type is not supported.",
            "unsupported_grant_type",
        )

    def _exchange(self, form: dict[str, str], now: datetime) -> TokenAnswer:
        entry = self.codes.get(form.get("code", ""))
        if entry is None:
            return _error(400, "invalid_grant", CHAIN_ERROR, "invalid_code")
        if entry["used"]:
            return _error(400, "invalid_grant", "Bad Request", "code_reused")
        if now - entry["issued"] > CODE_LIFETIME:
            return _error(400, "invalid_grant", "Bad Request", "code_expired")
        if form.get("redirect_uri") != entry["redirect_uri"]:
            return _error(400, "invalid_grant", "Bad Request", "redirect_uri_mismatch")
        entry["used"] = True
        for chain in self.chains.values():  # one chain per (app, user): §1.6, reported
            if chain.user_id == self.user_id:
                chain.obsolete = True  # its access token lives on until it expires
        divisions = entry["divisions"] or None
        chain = Chain(secrets.token_hex(8), self.user_id, divisions, "", now, "", now)
        self.chains[chain.id] = chain
        return self._issue(chain, now, "issued")

    def _refresh(self, token: str, now: datetime) -> TokenAnswer:
        chain = self.chains.get(self.by_refresh.get(token, ""))
        if chain is None:
            return _error(400, "invalid_grant", CHAIN_ERROR, "invalid_refresh_token")
        if token != chain.refresh_token:
            # Unconfirmed (§1.6): whether reuse revokes the newer token; assume it does.
            chain.alive = False  # reuse kills the whole chain
            return _error(
                401, "unauthorized_client", "Old refresh token used.", "old_refresh_token"
            )
        if not chain.alive or chain.obsolete:
            return _error(400, "invalid_grant", CHAIN_ERROR, "dead_chain")
        expires = chain.refresh_issued + REFRESH_IDLE
        if now >= expires:
            return _error(
                400,
                "invalid_request",
                f"The refresh token expired at {expires:%Y-%m-%d %H:%M:%S} UTC "
                f"and it is now {now:%Y-%m-%d %H:%M:%S} UTC.",
                "refresh_token_expired",
            )
        if self.early_refresh and now - chain.access_issued < EARLIEST_REFRESH:
            return _error(
                400,
                "access_denied",
                "Rate limit exceeded: access_token not expired",
                "too_early",
                Reason="TooEarlyToRefreshTokens: the access token was "
                "issued less than 570 seconds ago",
            )
        chain.old_refresh.add(chain.refresh_token)
        return self._issue(chain, now, "refreshed")

    def _issue(self, chain: Chain, now: datetime, outcome: str) -> TokenAnswer:
        self.by_access.pop(chain.access_token, None)  # only the newest access token works
        chain.access_token = "AAEAA" + secrets.token_urlsafe(48)
        chain.refresh_token = "Gcp7!IAA" + secrets.token_urlsafe(32)
        chain.access_issued = chain.refresh_issued = now
        self.by_access[chain.access_token] = chain.id
        self.by_refresh[chain.refresh_token] = chain.id
        body = {
            "access_token": chain.access_token,
            "token_type": "bearer",
            "expires_in": str(int(ACCESS_LIFETIME.total_seconds())),
            "refresh_token": chain.refresh_token,
        }
        return TokenAnswer(200, body, outcome)

    def revoke_access_tokens(self) -> int:
        """Exact stops accepting the live access tokens (data calls answer 401) while every
        chain lives on: the refresh tokens still work, after the same 570 s as ever."""
        revoked = [c for c in self.chains.values() if self.by_access.pop(c.access_token, None)]
        return len(revoked)

    def authenticate(self, header: str, now: datetime) -> Chain | None:
        if not header.startswith("Bearer "):
            return None
        chain = self.chains.get(self.by_access.get(header[7:].strip(), ""))
        if chain is None or not chain.alive or now >= chain.access_issued + ACCESS_LIFETIME:
            return None
        return chain
