"""A strict Monday.com API sandbox: a WSGI application serving `POST /v2` (GraphQL).

It behaves like the real API as ../shared/reference/monday.md describes it, never leniently:
documents are validated against the real schema, column values must be JSON-encoded strings that
fit their column type, every request is charged complexity against a per-minute budget, limits
are answered with Monday's error shapes, and `Idempotency-Key` answers are replayed.
`GET /` and `GET /boards/<id>` show the boards as read-only HTML for the demo.
Never imported by production code paths.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from graphql import GraphQLError, execute_sync, parse, validate

from integrations.sandbox import monday_board_view as board_view
from integrations.sandbox.clock import SandboxClock
from integrations.sandbox.monday_complexity import Window, request_cost
from integrations.sandbox.monday_errors import MondayApiError, error_body
from integrations.sandbox.monday_resolvers import SCHEMA, RequestContext, Root
from integrations.sandbox.monday_store import MondayStore

IDEMPOTENCY_TTL = timedelta(minutes=30)
API_VERSION = re.compile(r"^\d{4}-\d{2}$")
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_FAULT_MESSAGES = {
    "COMPLEXITY_BUDGET_EXHAUSTED": "Complexity budget exhausted",
    "RATE_LIMIT_EXCEEDED": "Minute limit rate exceeded",
    "DAILY_LIMIT_EXCEEDED": "Daily limit exceeded",
    "INTERNAL_SERVER_ERROR": "Internal server error",
    "UNAUTHENTICATED": "Not Authenticated",
}


@dataclass
class _Fault:
    status: int | None
    error_code: str | None
    apply_then_timeout: bool
    retry_in_seconds: int | None


@dataclass
class _Answer:
    status: int
    body: dict | str
    headers: list = field(default_factory=list)


@dataclass
class _Limits:
    budget: Window
    requests: Window


class MondaySandbox:
    """The sandbox API. Tests drive it through WSGI or a served instance; see the module doc."""

    def __init__(
        self,
        *,
        clock=None,
        tokens: dict[str, dict] | None = None,
        rate_limits: bool = True,
        budget_per_minute: int = 10_000_000,
        max_query_complexity: int = 5_000_000,
        requests_per_minute: int = 5000,
        latency: float = 0.0,
    ) -> None:
        self.clock = clock or SandboxClock(frozen=False)
        self.store = MondayStore(self.clock)
        self.rate_limits = rate_limits
        self.budget_per_minute = budget_per_minute
        self.max_query_complexity = max_query_complexity
        self.requests_per_minute = requests_per_minute
        self.latency = latency
        self.timeout_hang_seconds = 1.0  # how long an apply_then_timeout answer is held back
        self.requests: list[dict] = []
        self.api_versions: list[str | None] = []
        self._lock = threading.RLock()
        self._tokens: dict[str, dict] = {}
        self._limits: dict[str, _Limits] = {}
        self._faults: list[_Fault] = []
        self._idempotency: dict[tuple[str, str], tuple[object, _Answer | None]] = {}
        self._user_ids = iter(range(40_000_001, 50_000_000))
        for token, info in (tokens or {}).items():
            self.add_token(token, **info)

    # -- test helpers ------------------------------------------------------------------------
    def add_token(
        self,
        token: str,
        *,
        user_name: str = "Sandy Sandbox",
        email: str = "sandy@example.test",
        account_name: str = "Sandbox Finance",
    ) -> None:
        with self._lock:
            user_id = next(self._user_ids)
            self._tokens[token] = {
                "id": str(user_id),
                "user_name": user_name,
                "email": email,
                "account_name": account_name,
                "account_id": "7000001",
            }
            self.store.people[user_id] = user_name

    def add_board(self, name: str, *, columns: list[dict], groups: list[dict]) -> str:
        with self._lock:
            return self.store.add_board(name, columns_=columns, groups=groups).id

    def add_column(self, board_id, column: dict) -> None:
        """Add a column to a board (a finance team editing its board)."""
        with self._lock:
            board = self.store.board(board_id)
            board.columns.append({"settings": {}, **column})

    def finance_board(self, name: str = "Finance — invoices") -> str:
        """A board shaped like a finance team's: Exact key, amounts, dates, labels, review."""
        from integrations.sandbox.monday_fixtures import FINANCE_COLUMNS, FINANCE_GROUPS

        return self.add_board(name, columns=FINANCE_COLUMNS, groups=FINANCE_GROUPS)

    def subitems_board_id(self, board_id) -> str | None:
        with self._lock:
            return self.store.board(board_id).subitems_board_id

    def board_columns(self, board_id) -> list[dict]:
        with self._lock:
            return json.loads(json.dumps(self.store.board(board_id).columns))

    def items(self, board_id) -> list[dict]:
        """The board's active items as plain dicts (parsed values), with their subitems."""
        with self._lock:
            board = self.store.board(board_id)
            return [
                self._item_dict(i) for i in self.store.live_items(board.id) if i.state == "active"
            ]

    def _item_dict(self, item) -> dict:
        subs = [self.store.items[i] for i in item.subitem_ids]
        return {
            "id": item.id,
            "name": item.name,
            "group_id": item.group_id,
            "state": item.state,
            "column_values": self.store.column_values(item),
            "texts": dict(item.texts),
            "subitems": [self._item_dict(s) for s in subs if s.state == "active"],
        }

    def edit_item(self, item_id, column_id: str, value) -> None:
        """A person editing a cell on the board; `value` is the column's JSON value."""
        with self._lock:
            item = self.store.item(item_id)
            board = self.store.boards[item.board_id]
            self.store.change_values(board, item, {column_id: value}, create_labels=True)

    def delete_item(self, item_id) -> None:
        with self._lock:
            self.store.set_state(self.store.item(item_id), "deleted")

    def fail_next(
        self,
        status: int | None = None,
        *,
        error_code: str | None = None,
        count: int = 1,
        apply_then_timeout: bool = False,
        retry_in_seconds: int | None = None,
    ) -> None:
        """Answer the next `count` authenticated requests with a fault.

        `status`: that HTTP status (502-504 with an HTML body, as a gateway answers).
        `error_code`: HTTP 200 (or `status`) with `errors[]` carrying that code.
        `apply_then_timeout`: the request is executed and its answer cached for its
        Idempotency-Key, then the answer is held back `timeout_hang_seconds` and replaced by a
        504, as when the connection dies after Monday.com applied the mutation.
        """
        with self._lock:
            for _ in range(count):
                self._faults.append(
                    _Fault(status, error_code, apply_then_timeout, retry_in_seconds)
                )

    # -- WSGI --------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/") or "/"
        if method == "POST" and path.rstrip("/") in ("", "/v2"):
            answer = self._graphql(environ)
        elif method == "GET" and path == "/":
            with self._lock:
                answer = _Answer(200, board_view.render_board_list(self.store))
        elif method == "GET" and re.fullmatch(r"/boards/\d+/?", path):
            with self._lock:
                board = self.store.boards.get(path.strip("/").split("/")[1])
                answer = (
                    _Answer(200, board_view.render_board(self.store, board))
                    if board
                    else _Answer(404, "<h1>Board not found</h1>")
                )
        elif path.rstrip("/") in ("", "/v2") or path.startswith("/boards/"):
            answer = _Answer(405, "<h1>Method not allowed</h1>")
        else:
            answer = _Answer(404, "<h1>Not found</h1>")
        return self._respond(answer, start_response)

    @staticmethod
    def _respond(answer: _Answer, start_response):
        if isinstance(answer.body, dict):
            payload = json.dumps(answer.body, ensure_ascii=False).encode("utf-8")
            content_type = "application/json; charset=utf-8"
        else:
            payload = answer.body.encode("utf-8")
            content_type = "text/html; charset=utf-8"
        headers = [("Content-Type", content_type), ("Content-Length", str(len(payload)))]
        headers += answer.headers
        start_response(f"{answer.status} {_REASONS.get(answer.status, 'Error')}", headers)
        return [payload]

    # -- the GraphQL endpoint ----------------------------------------------------------------
    def _graphql(self, environ) -> _Answer:
        request_id = str(uuid.uuid4())
        entry = {
            "complexity": 0,
            "mutations": 0,
            "status": 0,
            "idempotency_key": environ.get("HTTP_IDEMPOTENCY_KEY"),
            "error_codes": [],
            "replayed": False,
        }
        try:
            answer = self._graphql_answer(environ, request_id, entry)
        except Exception:
            entry["status"] = 500
            with self._lock:
                self.requests.append(entry)
            raise
        entry["status"] = answer.status
        if isinstance(answer.body, dict):
            entry["error_codes"] = [
                (e.get("extensions") or {}).get("code") for e in answer.body.get("errors", [])
            ]
        version = environ.get("HTTP_API_VERSION")
        if version and API_VERSION.match(version):
            answer.headers.append(("API-Version", version))
        with self._lock:
            self.requests.append(entry)
            self.api_versions.append(version)
        return answer

    def _graphql_answer(self, environ, request_id: str, entry: dict) -> _Answer:
        token = (environ.get("HTTP_AUTHORIZATION") or "").strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        user = self._tokens.get(token)
        if user is None:
            # Reference: monday.md "Errors": UNAUTHENTICATED / "Not Authenticated" (401).
            # Unconfirmed: whether the 401 body still carries errors[] in every API version.
            return _Answer(
                401,
                error_body(
                    "Not Authenticated",
                    {"code": "UNAUTHENTICATED", "status_code": 401, "request_id": request_id},
                ),
            )
        now = self.clock.now().timestamp()
        with self._lock:
            limits = self._limits.setdefault(
                token, _Limits(Window(self.budget_per_minute), Window(self.requests_per_minute))
            )
            if self.rate_limits and not limits.requests.fits(now, 1):
                wait = max(limits.requests.reset_in(now), 1)
                return _Answer(
                    429,
                    error_body(
                        "Minute limit rate exceeded",
                        {
                            "code": "RATE_LIMIT_EXCEEDED",
                            "status_code": 429,
                            "retry_in_seconds": wait,
                            "request_id": request_id,
                        },
                        account_id=int(user["account_id"]),
                    ),
                    [("Retry-After", str(wait))],
                )
            limits.requests.charge(now, 1)
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None and not fault.apply_then_timeout:
            return _fault_answer(fault, request_id)

        parsed = _read_body(environ, request_id)
        if isinstance(parsed, _Answer):
            return parsed
        query, variables, operation_name = parsed
        try:
            document = parse(query)
        except GraphQLError as exc:
            return _invalid_document([exc], request_id)
        problems = validate(SCHEMA, document)
        if problems:
            return _invalid_document(problems, request_id)
        try:
            cost = request_cost(SCHEMA, document, variables, operation_name)
        except (StopIteration, IndexError):
            return _invalid_document([GraphQLError("No operation to run")], request_id)
        entry["complexity"], entry["mutations"] = cost.complexity, cost.mutations

        key = environ.get("HTTP_IDEMPOTENCY_KEY") if cost.mutations else None
        slot = None
        if key:
            claimed = self._claim_idempotency(token, key, request_id)
            if isinstance(claimed, _Answer):
                entry["replayed"] = claimed.status != 409
                return claimed
            slot = claimed
        try:
            answer = self._execute(
                token, user, limits, document, variables, operation_name, cost, request_id
            )
        except BaseException:
            self._release(token, key, slot, None)
            raise
        executed = answer.status == 200 and "data" in answer.body
        self._release(token, key, slot, answer if executed else None)
        if fault is not None and fault.apply_then_timeout:
            time.sleep(self.timeout_hang_seconds)
            return _Answer(504, "<html><body><h1>504 Gateway Time-out</h1></body></html>")
        return answer

    def _execute(
        self, token, user, limits, document, variables, operation_name, cost, request_id
    ) -> _Answer:
        account_id = int(user["account_id"])
        if cost.complexity > self.max_query_complexity:
            # Unconfirmed: the exact message and HTTP status; the code is in the reference.
            return _Answer(
                200,
                error_body(
                    f"Query has complexity of {cost.complexity}, which exceeds max complexity "
                    f"of {self.max_query_complexity}",
                    {
                        "code": "REQUEST_MAX_COMPLEXITY_EXCEEDED",
                        "status_code": 200,
                        "complexity": cost.complexity,
                        "max_complexity": self.max_query_complexity,
                        "request_id": request_id,
                    },
                    account_id=account_id,
                ),
            )
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            now = self.clock.now().timestamp()
            before = limits.budget.remaining(now)
            reset_in = limits.budget.reset_in(now)
            if self.rate_limits and not limits.budget.fits(now, cost.complexity):
                # Reference: monday.md "Errors"; the shape follows airbyte's fixture
                # 200_complexityBudgetExhausted.json (HTTP 200, status_code 429 inside).
                return _Answer(
                    200,
                    error_body(
                        "Complexity budget exhausted",
                        {
                            "code": "COMPLEXITY_BUDGET_EXHAUSTED",
                            "status_code": 429,
                            "complexity": cost.complexity,
                            "complexity_budget_left": before,
                            "complexity_budget_limit": self.budget_per_minute,
                            "retry_in_seconds": max(reset_in, 1),
                            "request_id": request_id,
                        },
                        account_id=account_id,
                    ),
                )
            limits.budget.charge(now, cost.complexity)
            context = RequestContext(
                self.store,
                user,
                request_id,
                {
                    "before": before,
                    "after": before - cost.complexity,
                    "query": cost.complexity,
                    "reset_in_x_seconds": reset_in,
                },
            )
            result = execute_sync(
                SCHEMA,
                document,
                root_value=Root(),
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
            )
        body: dict = {"data": result.data}
        if result.errors:
            body["errors"] = [_format_error(e, request_id) for e in result.errors]
            if result.data is None and not any(e.path for e in result.errors):
                body.pop("data")  # variables refused before execution: nothing ran
        body["account_id"] = account_id
        return _Answer(200, body)

    # -- Idempotency-Key ---------------------------------------------------------------------
    def _claim_idempotency(self, token: str, key: str, request_id: str):
        """A replayed answer, a 409 while the first is in flight, or a slot to fill."""
        now = self.clock.now()
        with self._lock:
            held = self._idempotency.get((token, key))
            if held is not None:
                expires_at, answer = held
                if answer is None:
                    # Unconfirmed: the body and code of Monday's 409; the reference names only
                    # the status and the Retry-After header.
                    return _Answer(
                        409,
                        error_body(
                            "A request with this Idempotency-Key is already in progress",
                            {
                                "code": "IDEMPOTENCY_KEY_IN_USE",
                                "status_code": 409,
                                "request_id": request_id,
                            },
                        ),
                        [("Retry-After", "1")],
                    )
                if now < expires_at:
                    return _Answer(
                        answer.status,
                        json.loads(json.dumps(answer.body)),
                        [*answer.headers, ("Idempotency-Replayed", "true")],
                    )
            slot = object()
            self._idempotency[(token, key)] = (slot, None)
            return slot

    def _release(self, token, key, slot, answer: _Answer | None) -> None:
        if not key or slot is None:
            return
        with self._lock:
            if answer is None:
                self._idempotency.pop((token, key), None)
            else:
                cached = _Answer(answer.status, json.loads(json.dumps(answer.body)))
                self._idempotency[(token, key)] = (self.clock.now() + IDEMPOTENCY_TTL, cached)


def _format_error(error: GraphQLError, request_id: str) -> dict:
    formatted = error.formatted
    extensions = dict(formatted.get("extensions") or {})
    if "code" not in extensions and not error.path:
        extensions["code"] = "GRAPHQL_VALIDATION_FAILED"
    extensions.setdefault("request_id", request_id)
    formatted["extensions"] = extensions
    return formatted


def _invalid_document(errors, request_id: str) -> _Answer:
    # Reference: monday.md "Errors" names GRAPHQL_VALIDATION_FAILED.
    # Unconfirmed: its HTTP status (200 here) and that syntax errors use the same code.
    return _Answer(
        200,
        {
            "errors": [
                {
                    **e.formatted,
                    "extensions": {
                        "code": "GRAPHQL_VALIDATION_FAILED",
                        "status_code": 200,
                        "request_id": request_id,
                    },
                }
                for e in errors
            ]
        },
    )


def _bad_request(message: str, request_id: str) -> _Answer:
    # Unconfirmed: Monday's exact answer to a malformed HTTP body; a 400 is what HTTP suggests.
    return _Answer(
        400,
        error_body(message, {"code": "BAD_REQUEST", "status_code": 400, "request_id": request_id}),
    )


def _read_body(environ, request_id: str):
    content_type = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return _bad_request("Content-Type must be application/json", request_id)
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _bad_request("The body is not valid JSON", request_id)
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return _bad_request('The body must be a JSON object with a "query" string', request_id)
    variables = body.get("variables")
    if variables is None:
        variables = {}
    if not isinstance(variables, dict):
        return _bad_request('"variables" must be a JSON object', request_id)
    operation_name = body.get("operationName")
    return body["query"], variables, operation_name if isinstance(operation_name, str) else None


def _fault_answer(fault: _Fault, request_id: str) -> _Answer:
    if fault.error_code:
        ext = {
            "code": fault.error_code,
            "status_code": 429 if fault.error_code.endswith("EXHAUSTED") else fault.status or 200,
            "request_id": request_id,
        }
        if fault.retry_in_seconds is not None:
            ext["retry_in_seconds"] = fault.retry_in_seconds
        headers = []
        if fault.status == 429 and fault.retry_in_seconds is not None:
            headers.append(("Retry-After", str(fault.retry_in_seconds)))
        message = _FAULT_MESSAGES.get(fault.error_code, fault.error_code)
        return _Answer(fault.status or 200, error_body(message, ext), headers)
    status = fault.status or 500
    if status in (502, 503, 504):
        return _Answer(status, f"<html><body><h1>{status} {_REASONS[status]}</h1></body></html>")
    if status == 429:
        wait = fault.retry_in_seconds or 1
        ext = {"code": "RATE_LIMIT_EXCEEDED", "status_code": 429, "retry_in_seconds": wait}
        return _Answer(
            429, error_body("Minute limit rate exceeded", ext), [("Retry-After", str(wait))]
        )
    if status == 401:
        ext = {"code": "UNAUTHENTICATED", "status_code": 401}
        return _Answer(401, error_body("Not Authenticated", ext))
    ext = {"code": "INTERNAL_SERVER_ERROR", "status_code": status, "request_id": request_id}
    return _Answer(status, error_body(_REASONS.get(status, "Error"), ext))


__all__ = ["MondaySandbox", "MondayApiError"]
