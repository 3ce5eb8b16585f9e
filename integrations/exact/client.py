"""ExactClient: the one way ml-connector calls Exact Online's REST API (OData v2 over JSON).

Transport rules (reference §1.8, §3, §4): always `Accept: application/json`; a 401 hands the
refused token back to the token source (one refresh whatever our clock says) and retries once;
a 429 is waited out from the X-RateLimit-*-Reset headers; 5xx and timeouts are retried a
bounded number of times with backoff and jitter; other 4xx answers are never retried and are
counted per endpoint per hour. Every call takes a slot in the shared
per-company budget first. Answers become frozen dataclasses (entities.py), never Responses.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import requests
from django.conf import settings

from integrations import waits
from integrations.errors import (
    AccessRefused,
    RateLimited,
    RemoteUnavailable,
    UnexpectedResponse,
)
from integrations.exact import company, readers
from integrations.exact.ratelimit import SharedBudget
from integrations.exact.responses import collection, error_from_response, parse_json

logger = logging.getLogger(__name__)

TIMEOUT = (5, 60)
REGION_HOSTS = {
    "nl": "https://start.exactonline.nl",
    "be": "https://start.exactonline.be",
    "de": "https://start.exactonline.de",
    "co.uk": "https://start.exactonline.co.uk",
    "com": "https://start.exactonline.com",
    "es": "https://start.exactonline.es",
    "fr": "https://start.exactonline.fr",
}
_KEY_SUFFIX = re.compile(r"\(.*\)$")
_DIVISION_SEGMENT = re.compile(r"^\d+/")

# The access token Exact just answered 401 to (None on a plain call) -> the token to send.
TokenSource = Callable[[str | None], str]
# Reference §1 table and §3.9: a URL may have 6,000 characters after percent-encoding. Exact's
# __next link repeats our query and appends a $skiptoken, so our own URLs leave room for it.
MAX_URL_LENGTH = 6000
NEXT_LINK_ROOM = 200


def base_url_for(region: str) -> str:
    """The host a new connection talks to: the sandbox in sandbox mode, else the region's."""
    if settings.INTEGRATIONS_MODE == "sandbox":
        return f"{settings.SANDBOX_URL}/exact"
    if region == "nl":
        return settings.EXACT_BASE_URL
    return REGION_HOSTS[region]


class ExactClient(readers.EntityReaders, company.CompanyReaders):
    """HTTP to one Exact host. Raises the integrations.errors hierarchy; returns plain data."""

    max_retries = 3  # 5xx and timeouts
    max_rate_waits = 3  # 429s waited out per call
    max_wait = 120.0  # longer waits are handed back to the caller as RateLimited
    backoff_base, backoff_cap = 1.0, 30.0
    page_cap = 1000

    def __init__(
        self,
        base_url: str,
        *,
        token_source: TokenSource,
        budget: SharedBudget | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,  # default: waits.sleep
        jitter: Callable[[], float] = random.random,
        on_token_rejected: Callable[[str], None] | None = None,
        on_call: Callable[[int | str], None] | None = None,  # counts each call by status
    ) -> None:
        self.on_call = on_call
        self.base_url = base_url.rstrip("/")
        self.on_token_rejected = on_token_rejected
        self.token_source = token_source
        self.budget = budget
        # (division, endpoint) that refused a filter of ours; shared via the budget (bulk.py).
        self.refused_filters: set[tuple[int, str]] = set()
        self.session = session or requests.Session()
        self.sleep = sleep or waits.sleep
        self.jitter = jitter

    # --- URLs ----------------------------------------------------------------------------

    def url(self, path: str, division: int | None) -> str:
        if path.startswith(("http://", "https://")):
            # __next links are called verbatim, but only on our own host (the token goes along).
            if urlsplit(path).netloc != urlsplit(self.base_url).netloc:
                raise UnexpectedResponse("Exact Online sent a next-page link to another host.")
            return path
        prefix = f"{self.base_url}/api/v1/" + (f"{int(division)}/" if division is not None else "")
        return prefix + path.lstrip("/")

    def encoded_url(self, path: str, division: int | None, params: dict | None) -> str:
        """The URL exactly as a GET sends it (query percent-encoded by requests)."""
        return requests.Request("GET", self.url(path, division), params=params).prepare().url

    def fits_url_limit(self, path: str, division: int | None, params: dict | None) -> bool:
        """Whether a GET of `path` with `params`, and the __next links Exact builds from it,
        stay within Exact's URL length limit (base URL, path and every parameter counted)."""
        return len(self.encoded_url(path, division, params)) <= MAX_URL_LENGTH - NEXT_LINK_ROOM

    def endpoint(self, url: str) -> str:
        """`salesinvoice/SalesInvoices` for any URL of that endpoint (the error-budget key)."""
        path = urlsplit(url).path
        marker = "/api/v1/"
        path = path[path.find(marker) + len(marker) :] if marker in path else path.lstrip("/")
        return _KEY_SUFFIX.sub("", _DIVISION_SEGMENT.sub("", path, count=1))

    # --- the request loop ----------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        division: int | None,
        params: dict | None = None,
        json_body: dict | None = None,
        priority: str = "normal",
    ) -> requests.Response:
        url = self.url(path, division)
        endpoint = self.endpoint(url)
        # POST/DELETE are not idempotent: a 5xx there is surfaced, never repeated.
        retry_server_errors = method == "GET"
        failures = rate_waits = 0
        refreshed = False
        rejected: str | None = None
        while True:
            self._take_slot(division, endpoint, priority)
            token = self._access_token(rejected, endpoint, division)
            rejected = None
            headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
            if json_body is not None:
                headers["Content-Type"] = "application/json"
                headers["Prefer"] = "return=representation"
            try:
                # Reference: https://start.exactonline.nl/docs/HlpRestAPIResources.aspx
                response = self.session.request(
                    method, url, params=params, json=json_body, headers=headers, timeout=TIMEOUT
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                self._count("timeout" if isinstance(exc, requests.Timeout) else "unreachable")
                failures += 1
                logger.warning(
                    "exact.request.transport_error",
                    extra={
                        "endpoint": endpoint,
                        "division": division,
                        "error": type(exc).__name__,
                        "attempt": failures,
                    },
                )
                if not retry_server_errors or failures > self.max_retries:
                    raise RemoteUnavailable(
                        f"Exact Online did not answer on {endpoint} ({type(exc).__name__}).",
                        hint="It is retried later.",
                    ) from exc
                self._backoff(failures)
                continue
            status = response.status_code
            self._count(status)
            retry_after = (
                self.budget.record_response(division, endpoint, status, response.headers)
                if self.budget
                else 0.0
            )
            if status < 300:
                return response
            if status == 401 and not refreshed:
                # Whatever our clock says about its age, this token was refused: hand it back
                # so the source refreshes once (or takes the one another worker just stored).
                refreshed, rejected = True, token
                logger.info(
                    "exact.request.unauthorized_retry",
                    extra={"endpoint": endpoint, "division": division},
                )
                continue
            if status == 429:
                rate_waits += 1
                wait = retry_after or 60.0
                logger.info(
                    "exact.request.rate_limited",
                    extra={"endpoint": endpoint, "division": division, "wait": wait},
                )
                if rate_waits > self.max_rate_waits or wait > self.max_wait:
                    raise RateLimited(
                        f"Exact Online's rate limit for division {division} is reached.",
                        hint="The work continues after the reset.",
                        retry_after=wait,
                    )
                self.sleep(wait)
                continue
            if status >= 500 and retry_server_errors and failures < self.max_retries:
                failures += 1
                logger.warning(
                    "exact.request.server_error",
                    extra={
                        "endpoint": endpoint,
                        "division": division,
                        "status": status,
                        "attempt": failures,
                    },
                )
                self._backoff(failures)
                continue
            error = error_from_response(response, endpoint)
            if status == 401 and self.on_token_rejected is not None:
                self.on_token_rejected(error.message)
            raise error

    def _count(self, status: int | str) -> None:
        if self.on_call is not None:
            self.on_call(status)

    def _access_token(self, rejected: str | None, endpoint: str, division: int | None) -> str:
        try:
            return self.token_source(rejected)
        except AccessRefused as exc:
            where = endpoint if division is None else f"{endpoint} (division {division})"
            raise AccessRefused(
                f"Exact Online refused the call to {where} with HTTP 401 although the access "
                "token is still valid.",
                hint=exc.hint,
                status=401,
            ) from exc

    def _take_slot(self, division: int | None, endpoint: str, priority: str) -> None:
        """Wait (bounded) until the shared budget grants a slot; else raise RateLimited."""
        if self.budget is None:
            return
        wait = 0.0
        for _ in range(self.max_rate_waits + 2):
            wait = self.budget.acquire(division, endpoint, priority=priority)
            if wait <= 0:
                return
            if wait > self.max_wait:
                break
            logger.info("exact.budget.wait", extra={"division": division, "wait": wait})
            self.sleep(wait)
        raise RateLimited(
            f"Exact Online's call budget for division {division} is spent for now.",
            hint="The work continues after the reset.",
            retry_after=wait,
        )

    def _backoff(self, attempt: int) -> None:
        delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
        self.sleep(delay / 2 + self.jitter() * delay / 2)

    # --- JSON ----------------------------------------------------------------------------

    def get(
        self,
        path: str,
        *,
        division: int | None,
        params: dict | None = None,
        priority: str = "normal",
    ) -> dict:
        """GET and parse the JSON answer (amounts as Decimal). Raises the B4 hierarchy."""
        response = self.request("GET", path, division=division, params=params, priority=priority)
        return parse_json(response, self.endpoint(response.url or path))

    def iter_pages(
        self,
        path: str,
        *,
        division: int | None,
        params: dict | None = None,
        max_pages: int | None = None,
        priority: str = "normal",
    ) -> Iterator[list[dict]]:
        """Rows page by page, following `__next` verbatim, one page after another."""
        limit = max_pages or self.page_cap
        next_path: str | None = path
        pages = 0
        while next_path:
            payload = self.get(next_path, division=division, params=params, priority=priority)
            rows, next_path = collection(payload)
            params = None  # __next already carries the query
            pages += 1
            yield rows
            if next_path and pages >= limit:
                logger.warning(
                    "exact.paging.capped", extra={"endpoint": self.endpoint(path), "pages": pages}
                )
                return
