"""The HTTP side of the Exact Online sandbox: OAuth pages, the token endpoint, /api/v1 calls.

`ApiHandlers` is mixed into ExactSandbox and uses its state (lock, clock, store, auth, limits,
errors, subscriptions). Every /api/v1 call is admitted in this order: error-budget block →
access token (401) → division consent (403) → rate limit (429) → URL length (400) → the
endpoint itself.
"""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from urllib.parse import parse_qs, parse_qsl, quote

from integrations.sandbox import exact_query, exact_webhooks
from integrations.sandbox import exact_wire as wire
from integrations.sandbox.exact_odata import AMSTERDAM, ODataError, literal
from integrations.sandbox.exact_schema import BY_PATH, ME_ENDPOINT, SYNC_TIMESTAMP_SOURCES
from integrations.sandbox.exact_store import SANDBOX_USER_ID

Response = tuple[int, list[tuple[str, str]], bytes]
REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
_KEYED = re.compile(r"^(?P<path>.+?)\((?P<key>.+)\)$")
# Reference §1 table and §3.9: a URL may have 6,000 characters after percent-encoding.
MAX_URL_LENGTH = 6000


def base_url(environ: dict) -> str:
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}{environ.get('SCRIPT_NAME', '')}"


def request_url(environ: dict) -> str:
    """The URL as the client sent it: PATH_INFO comes decoded, QUERY_STRING as sent."""
    path = quote(environ.get("PATH_INFO", ""), safe="/:@!$&'()*+,;=~")
    query = environ.get("QUERY_STRING", "")
    return base_url(environ) + path + (f"?{query}" if query else "")


def read_body(environ: dict) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def error_response(status: int, message: str, as_json: bool, headers=None) -> Response:
    ctype, body = wire.error_body(message, as_json)
    return status, [("Content-Type", ctype), *(headers or {}).items()], body


class ApiHandlers:
    # -- OAuth ------------------------------------------------------------------------------
    def _authorize(self, environ: dict) -> Response:
        method = environ["REQUEST_METHOD"]
        if method == "POST":
            form = parse_qs(read_body(environ).decode(), keep_blank_values=True)
            params = {k: v[0] for k, v in form.items()}
        else:
            form, params = None, dict(parse_qsl(environ.get("QUERY_STRING", "")))
        with self.lock:
            problem = self.auth.check_authorize(params)
            if problem is None and form is not None:
                return 302, [("Location", self.auth.decide(form, self.clock.now()))], b""
            divisions = {c: d["Description"] for c, d in self.store.divisions.items()}
        if problem:
            page = f"<!DOCTYPE html><html><body><h1>Bad request</h1><p>{problem}</p></body></html>"
            return 400, [("Content-Type", "text/html; charset=utf-8")], page.encode()
        action = environ.get("SCRIPT_NAME", "") + "/api/oauth2/auth"
        page = self.auth.consent_page(action, params, divisions)
        return 200, [("Content-Type", "text/html; charset=utf-8")], page.encode()

    def _token(self, environ: dict) -> Response:
        if environ["REQUEST_METHOD"] != "POST":
            return 405, [("Content-Type", "text/plain")], b"Method Not Allowed"
        form = dict(parse_qsl(read_body(environ).decode(), keep_blank_values=True))
        with self.lock:
            now = self.clock.now()
            key = (None, "oauth2/token")
            blocked = self.errors.blocked_until(key, now)
            if blocked is not None:
                answer_status, body, outcome, headers = (
                    429,
                    self._blocked_body(blocked),
                    "blocked",
                    {},
                )
            else:
                answer = self.auth.token(form, now)
                answer_status, body, outcome = answer.status, answer.body, answer.outcome
                headers = answer.headers
                self.errors.record(key, answer_status, now)
            self.token_requests.append(
                {
                    "grant_type": form.get("grant_type"),
                    "outcome": outcome,
                    "status": answer_status,
                    "at": now,
                }
            )
        return (
            answer_status,
            [("Content-Type", wire.JSON_TYPE), *headers.items()],
            wire.json_bytes(body),
        )

    def _blocked_body(self, until) -> dict:
        return {
            "error": {
                "code": "",
                "message": {
                    "lang": "",
                    "value": (
                        "API rate limit exceeded: more than 10 errors on this endpoint within "
                        "an hour; "
                        f"blocked until {until:%Y-%m-%dT%H:%M:%SZ}"
                    ),
                },
            }
        }

    # -- /api/v1 ----------------------------------------------------------------------------
    def _api(self, environ: dict, method: str, path: str) -> Response:
        as_json = wire.wants_json(environ)
        rest = path[len("/api/v1/") :]
        if rest.lower() == "current/me":
            division, sub = None, "current/Me"
        else:
            head, _, sub = rest.partition("/")
            if not head.isdigit():
                return self._answer(
                    method, path, None, *error_response(404, "Resource not found", as_json)
                )
            division = int(head)
        m = _KEYED.match(sub)
        entity_path, key_text = (m.group("path"), m.group("key")) if m else (sub, None)
        budget_key = (division, entity_path.lower())
        with self.lock:
            now = self.clock.now()
            headers: dict[str, str] = {}
            blocked = self.errors.blocked_until(budget_key, now)
            chain = self.auth.authenticate(environ.get("HTTP_AUTHORIZATION", ""), now)
            if blocked is not None:
                # Unconfirmed (§4): the status of a blocked key; the message Exact shows is
                # "API rate limit exceeded".
                return self._answer(
                    method,
                    path,
                    budget_key,
                    *error_response(
                        429, self._blocked_body(blocked)["error"]["message"]["value"], as_json
                    ),
                )
            if chain is None:
                return self._answer(
                    method,
                    path,
                    budget_key,
                    *error_response(401, "Unauthorized", as_json, {"WWW-Authenticate": "Bearer"}),
                )
            if division is not None and (
                division not in self.store.divisions
                or (chain.divisions is not None and division not in chain.divisions)
            ):
                # Unconfirmed (§1.2): the status for a division outside the consent.
                return self._answer(
                    method,
                    path,
                    budget_key,
                    *error_response(403, "Forbidden - no access to this division.", as_json),
                )
            if division is not None:
                allowed, headers = self.limits.take(division, now)
                if not allowed:
                    return self._answer(
                        method,
                        path,
                        None,
                        *error_response(429, "Too many requests", as_json, headers),
                    )
        try:
            length = len(request_url(environ))
            if length > MAX_URL_LENGTH:
                # Unconfirmed (§3.9): the status of this refusal. 400 (not 414) so that it
                # spends the hourly error budget like Exact's other refusals: the stricter
                # choice for a client that keeps sending too-long URLs.
                raise ODataError(
                    400,
                    f"The request URL is too long ({length} characters after encoding); "
                    f"the maximum is {MAX_URL_LENGTH}.",
                )
            status, extra, body = self._dispatch(
                environ, method, division, entity_path, key_text, as_json
            )
        except ODataError as exc:
            status, extra, body = error_response(exc.status, exc.message, as_json, exc.headers)
        return self._answer(method, path, budget_key, status, [*extra, *headers.items()], body)

    def _answer(self, method, path, budget_key, status, headers, body) -> Response:
        with self.lock:
            if budget_key is not None:
                self.errors.record(budget_key, status, self.clock.now())
            self.calls.append((method, path, status))
        return status, headers, body

    def _dispatch(self, environ, method, division, entity_path, key_text, as_json) -> Response:
        endpoint = ME_ENDPOINT if division is None else BY_PATH.get(entity_path.lower())
        if endpoint is None:
            raise ODataError(404, "Resource not found")
        if endpoint.kind == "webhooks" and method in ("POST", "DELETE"):
            return self._webhook_change(environ, method, division, key_text)
        if method != "GET":
            raise ODataError(405, f"The sandbox serves only GET on {endpoint.path}.")
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        with self.lock:
            if endpoint.kind == "function":
                rows, select, next_query = self._sync_timestamp(division, query), None, None
                page = exact_query.Page(rows, select, next_query)
            elif endpoint.kind == "sync":
                if self.sync_page_size:
                    endpoint = dataclasses.replace(endpoint, page_size=self.sync_page_size)
                page = exact_query.sync_page(
                    endpoint,
                    query,
                    lambda after, limit, keep: self.store.feed_page(
                        division, endpoint.source, after, limit, keep
                    ),
                )
            else:
                page = self._regular(endpoint, division, query, key_text)
            return self._render(environ, endpoint, division, page, key_text, as_json)

    def _regular(self, endpoint, division, query, key_text) -> exact_query.Page:
        source = endpoint.source
        if source == "me":
            rows = [self._me_row()]
            all_rows, lookup = (lambda: rows), (lambda f, v: None)
        elif source == "webhooks":
            subs = exact_query.sort_by_key(
                [s for s in self.subscriptions if s["Division"] == division], "ID"
            )
            all_rows, lookup = (lambda: subs), (lambda f, v: None)
        elif source == "divisions":
            rows = [
                {**d, "Current": c == self.current_division}
                for c, d in self.store.divisions.items()
            ]
            all_rows, lookup = (lambda: rows), (lambda f, v: None)
        else:
            all_rows = lambda: self.store.rows(division, source)  # noqa: E731
            lookup = lambda f, v: self.store.lookup(division, source, f, v)  # noqa: E731
        if key_text is None:
            refused = self.bulk_unfilterable.get(endpoint.path.lower(), frozenset())
            return exact_query.regular_page(endpoint, query, all_rows, lookup, refused)
        key = exact_query.single_key(key_text, endpoint)
        options = exact_query.check_options(query)
        select = exact_query.parse_select(
            options.get("$select"), endpoint.fields, endpoint.type_name
        )
        found = lookup(endpoint.key, key)
        if found is None:
            found = [r for r in all_rows() if str(r.get(endpoint.key)).lower() == str(key)]
        found = [r for r in found if str(r.get(endpoint.key)).lower() == str(key).lower()]
        if not found:
            raise ODataError(404, "Resource not found")  # Unconfirmed (§3.7): 404 or 400
        return exact_query.Page(found[:1], select, None)

    def _me_row(self) -> dict:
        now = self.clock.now()
        local = now.astimezone(AMSTERDAM)
        return {
            "UserID": SANDBOX_USER_ID,
            "UserName": "sandbox@example.test",
            "FullName": "Sandra Sandbox",
            "Email": "sandbox@example.test",
            "CurrentDivision": self.current_division,
            "AccountingDivision": 0,
            "DivisionCustomer": self.store.divisions.get(self.current_division, {}).get("Customer"),
            "DivisionCustomerName": "Sandbox Holding BV",
            "LanguageCode": "nl-NL",
            "Legislation": 1,
            "ServerTime": local.strftime("%Y-%m-%dT%H:%M:%S"),
            "ServerUtcOffset": int(local.utcoffset().total_seconds()),
        }

    def _sync_timestamp(self, division, query) -> list[dict]:
        params = dict(query)
        if "modified" not in params or "endPoint" not in params:
            raise ODataError(400, "Mandatory parameters: modified, endPoint")
        modified = exact_query.parse_skiptoken(params["modified"])
        name = exact_query.parse_skiptoken(params["endPoint"])
        if len(modified) != 1 or not hasattr(modified[0], "hour") or len(name) != 1:
            raise ODataError(400, "Invalid parameters: modified, endPoint")
        source = SYNC_TIMESTAMP_SOURCES.get(str(name[0]))
        if source is None:
            raise ODataError(400, f"The endPoint '{name[0]}' is not supported.")
        # Unconfirmed (§5.3): the value is the Timestamp of the first record with Modified ≥
        # the date; with no such record, the current highest rowversion.
        stamp = self.store.first_stamp_since(division, source, modified[0])
        return [
            {
                "API": name[0],
                "Modified": modified[0].replace(tzinfo=AMSTERDAM),
                "TimeStampAsBigInt": stamp if stamp is not None else self.store.rowversion,
            }
        ]

    def _render(self, environ, endpoint, division, page, key_text, as_json) -> Response:
        base = base_url(environ)
        prefix = (
            f"{base}/api/v1/{division}/{endpoint.path}"
            if division
            else (f"{base}/api/v1/{endpoint.path}")
        )
        key_kind = endpoint.fields[endpoint.key]

        def uri(row):
            return f"{prefix}({literal(row.get(endpoint.key), key_kind)})"

        next_url = None
        if page.next_query is not None:
            next_url = (
                f"{base}{environ.get('PATH_INFO', '')}?{exact_query.encode_query(page.next_query)}"
            )
        if not as_json:
            entries = [(uri(r), r) for r in page.rows]
            body = wire.atom_feed(
                endpoint.path.rsplit("/", 1)[-1],
                prefix,
                entries,
                endpoint.fields,
                page.select,
                next_url,
            )
            return 200, [("Content-Type", wire.ATOM_TYPE)], body
        rows = [
            wire.project(r, endpoint.fields, page.select, uri(r), endpoint.type_name)
            for r in page.rows
        ]
        if key_text is not None:
            return 200, [("Content-Type", wire.JSON_TYPE)], wire.json_bytes({"d": rows[0]})
        body = {"results": rows}
        if page.count is not None:
            body["__count"] = str(page.count)
        if next_url:
            body["__next"] = next_url
        return 200, [("Content-Type", wire.JSON_TYPE)], wire.json_bytes({"d": body})

    # -- webhook subscriptions --------------------------------------------------------------
    def _webhook_change(self, environ, method, division, key_text) -> Response:
        if method == "DELETE":
            if key_text is None:
                raise ODataError(400, "DELETE needs a key: WebhookSubscriptions(guid'…').")
            key = exact_query.single_key(key_text, BY_PATH["webhooks/webhooksubscriptions"])
            with self.lock:
                before = len(self.subscriptions)
                self.subscriptions[:] = [
                    s
                    for s in self.subscriptions
                    if not (s["ID"] == key and s["Division"] == division)
                ]
                if len(self.subscriptions) == before:
                    raise ODataError(404, "Resource not found")
            return 204, [], b""
        try:
            body = json.loads(read_body(environ) or b"null")
        except ValueError as exc:
            raise ODataError(400, "The request body is not valid JSON.") from exc
        with self.lock:
            url, topic, description = exact_webhooks.check_new(body, self.subscriptions, division)
        exact_webhooks.validate_callback(self.webhook_transport, url)  # outside the lock
        with self.lock:
            exact_webhooks.check_new(body, self.subscriptions, division)
            row = {
                "ID": str(uuid.uuid4()),
                "CallbackURL": url,
                "ClientID": self.client_id,
                "Topic": topic,
                "Description": description,
                "Division": division,
                "UserID": SANDBOX_USER_ID,
                "Created": self.clock.now(),
                "Creator": SANDBOX_USER_ID,
                "CreatorFullName": "Sandra Sandbox",
            }
            self.subscriptions.append(row)
        endpoint = BY_PATH["webhooks/webhooksubscriptions"]
        location = f"{base_url(environ)}/api/v1/{division}/{endpoint.path}(guid'{row['ID']}')"
        if "return=representation" not in environ.get("HTTP_PREFER", ""):
            return 204, [("Location", location)], b""  # §3.1: without Prefer, read it back
        data = wire.project(row, endpoint.fields, None, location, endpoint.type_name)
        return (
            201,
            [("Content-Type", wire.JSON_TYPE), ("Location", location)],
            wire.json_bytes({"d": data}),
        )
