"""A strict, in-process emulation of Exact Online for the demo and the end-to-end tests.

A WSGI application: OAuth pages and token endpoint under /api/oauth2/, the REST API under
/api/v1/. It follows ../shared/reference/exact-online.md (token rules §1, OData §3, limits §4,
sync §5, fields §6, webhooks §7); modules: exact_oauth (tokens), exact_api (HTTP), exact_query and
exact_odata (query options), exact_store and exact_docs (data), exact_controls (test and
demo controls), exact_wire (serialisation), exact_limits, exact_webhooks, exact_seed.
Never imported by production code.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl

from integrations.sandbox import exact_webhooks
from integrations.sandbox.clock import SandboxClock
from integrations.sandbox.exact_api import (
    REASONS,
    ApiHandlers,
    base_url,
    error_response,
    read_body,
)
from integrations.sandbox.exact_controls import DataControls
from integrations.sandbox.exact_limits import LIMITS, ErrorBudget, RateLimiter
from integrations.sandbox.exact_oauth import TokenAuthority
from integrations.sandbox.exact_schema import BY_PATH
from integrations.sandbox.exact_store import SANDBOX_USER_ID, Store
from integrations.sandbox.exact_wire import wants_json
from integrations.sandbox.limits import switched_off

FAULT_MESSAGES = {
    500: "An error has occurred.",
    503: "Service Unavailable",
    429: "Too many requests",
}


class DropConnection(Exception):  # noqa: N818 - it is a signal, not an error
    """Raised by the app to make sandbox.server close the connection without an answer."""


class ExactSandbox(ApiHandlers, DataControls):
    def __init__(
        self,
        *,
        clock: SandboxClock | None = None,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",  # noqa: S107 - the sandbox's own fake secret
        webhook_secret: str = "sandbox-webhook-secret",  # noqa: S107
        limits_off: Iterable[str] = (),
        latency: float = 0.0,
        webhook_transport: Callable[[str, bytes], int] | None = None,
        redirect_uris: list[str] | None = None,
    ) -> None:
        self.clock = clock or SandboxClock(frozen=False)
        self.client_id = client_id
        self.webhook_secret = webhook_secret
        # Every limit is on; a test names the ones it switches off (exact_limits.LIMITS).
        self.limits_off = switched_off(limits_off, LIMITS, "Exact Online")
        self.latency = latency
        self.webhook_transport = webhook_transport or exact_webhooks.default_transport
        self.lock = threading.RLock()
        self.store = Store(self.clock.now)
        self.auth = TokenAuthority(
            client_id=client_id,
            client_secret=client_secret,
            user_id=SANDBOX_USER_ID,
            redirect_uris=redirect_uris,
            early_refresh="early_refresh" not in self.limits_off,
        )
        self.limits = RateLimiter(
            minutely="minutely" not in self.limits_off, daily="daily" not in self.limits_off
        )
        self.errors = ErrorBudget(enabled="error_budget" not in self.limits_off)
        self.subscriptions: list[dict] = []
        self.webhooks_enabled = False
        self.webhook_deliveries: list[dict] = []  # url, topic, action, key, division, body, status
        self.token_requests: list[dict] = []
        self.calls: list[tuple[str, str, int]] = []
        self.current_division: int | None = None
        self.fault_sleep = 2.0  # seconds a "timeout" fault waits before dropping the connection
        # Test control: sync feeds in pages of this many rows instead of Exact's 1,000 (§3.2),
        # so a test meets page boundaries without writing thousands of rows.
        self.sync_page_size: int | None = None
        # Test control (refuse_bulk_filter): bulk path (lower case) -> fields it will not filter on.
        self.bulk_unfilterable: dict[str, frozenset[str]] = {}
        self.public_base_url = "https://start.exactonline.nl"  # updated from each request
        self._faults: list[dict] = []

    # -- WSGI ---------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        if self.latency:
            time.sleep(self.latency)
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        self.public_base_url = base_url(environ)
        fault = self._take_fault(path)
        if fault is not None:
            status, headers, body = self._fault_response(environ, method, path, fault)
        elif path == "/api/oauth2/auth":
            status, headers, body = self._authorize(environ)
        elif path == "/api/oauth2/token":
            status, headers, body = self._token(environ)
        elif path.startswith("/api/v1/"):
            status, headers, body = self._api(environ, method, path)
        else:
            status, headers, body = 404, [("Content-Type", "text/plain")], b"Not Found"
        headers = [*headers, ("Content-Length", str(len(body)))]
        start_response(f"{status} {REASONS.get(status, 'Error')}", headers)
        return [body]

    def _take_fault(self, path: str) -> dict | None:
        with self.lock:
            for fault in self._faults:
                if fault["needle"] in path and fault["remaining"] > 0:
                    fault["remaining"] -= 1
                    return dict(fault)
        return None

    def _fault_response(self, environ, method, path, fault):
        if fault["timeout"]:
            time.sleep(fault["sleep"])
            raise DropConnection(path)
        headers = {}
        if fault["status"] == 429:
            reset = int((self.clock.timestamp() // 60 + 1) * 60 * 1000)
            headers = {
                "X-RateLimit-Minutely-Limit": str(self.limits.minutely_limit),
                "X-RateLimit-Minutely-Remaining": "0",
                "X-RateLimit-Minutely-Reset": str(reset),
            }
        message = FAULT_MESSAGES.get(fault["status"], "Sandbox fault")
        answer = error_response(fault["status"], message, wants_json(environ), headers)
        if path.startswith("/api/v1/"):
            with self.lock:
                self.calls.append((method, path, fault["status"]))
        elif path == "/api/oauth2/token":
            form = dict(parse_qsl(read_body(environ).decode(), keep_blank_values=True))
            with self.lock:
                self.token_requests.append(
                    {
                        "grant_type": form.get("grant_type"),
                        "outcome": "fault",
                        "status": fault["status"],
                        "at": self.clock.now(),
                    }
                )
        return answer

    # -- test controls ------------------------------------------------------------------------
    def fail_next(
        self,
        path_contains: str,
        status: int,
        *,
        count: int = 1,
        timeout: bool = False,
        sleep: float | None = None,
    ) -> None:
        """The next `count` requests whose path contains the text fail with `status`, or with a
        dropped connection after `sleep` seconds (default `fault_sleep`) when `timeout`."""
        with self.lock:
            self._faults.append(
                {
                    "needle": path_contains,
                    "status": status,
                    "remaining": count,
                    "timeout": timeout,
                    "sleep": self.fault_sleep if sleep is None else sleep,
                }
            )

    def refuse_bulk_filter(self, path: str, *fields: str) -> None:
        """Make the bulk endpoint `path` (e.g. "bulk/SalesOrder/SalesOrderLines") answer 400
        "Filtering on these fields is not supported: …" to a $filter on any of `fields`; no
        fields: accept every filter again. Reference §3.4 says bulk endpoints may refuse some
        filters without saying which, so by default the sandbox accepts them all."""
        endpoint = BY_PATH.get(path.lower())
        if endpoint is None or endpoint.kind != "bulk":
            raise ValueError(f"{path!r} is not a bulk endpoint of the sandbox.")
        unknown = sorted(set(fields) - set(endpoint.fields))
        if unknown:
            raise ValueError(f"{endpoint.path} has no field {', '.join(unknown)}.")
        with self.lock:
            self.bulk_unfilterable[endpoint.path.lower()] = frozenset(fields)

    def revoke_access_tokens(self) -> int:
        """Make the live access tokens answer 401 although Exact calls them young: a refresh
        is still refused before 570 s (the "401 with another cause" of reference §1.8)."""
        with self.lock:
            return self.auth.revoke_access_tokens()

    def sign(self, content: bytes) -> str:
        return hmac.new(self.webhook_secret.encode(), content, hashlib.sha256).hexdigest().upper()

    def issue_authorization_code(self, redirect_uri: str) -> str:
        with self.lock:
            return self.auth.issue_code(redirect_uri, self.clock.now())

    # -- mutations and webhook delivery -------------------------------------------------------
    def _mutate(self, action: Callable):
        with self.lock:
            result = action()
            events, self.store.events = self.store.events, []
            deliveries = []
            if self.webhooks_enabled and events:
                deliveries = exact_webhooks.notifications(
                    events,
                    list(self.subscriptions),
                    client_id=self.client_id,
                    base_url=self.public_base_url,
                    now=self.clock.now(),
                    sign=self.sign,
                )
        for delivery in deliveries:  # outside the lock: the receiver may call us back
            try:
                delivery["status"] = self.webhook_transport(delivery["url"], delivery["body"])
            except Exception as exc:  # a failed delivery is recorded, like Exact's log
                delivery["status"], delivery["error"] = 0, type(exc).__name__
            with self.lock:
                self.webhook_deliveries.append(delivery)
        return result
