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
from collections.abc import Iterable
from dataclasses import dataclass

from graphql import GraphQLError, execute_sync, parse, validate

from integrations.sandbox import monday_board_view as board_view
from integrations.sandbox import monday_http as http
from integrations.sandbox.clock import SandboxClock
from integrations.sandbox.limits import switched_off
from integrations.sandbox.monday_complexity import (
    DAILY_CALLS_BASIC,
    LIMITS,
    DailyCount,
    Window,
    request_cost,
)
from integrations.sandbox.monday_errors import MondayApiError
from integrations.sandbox.monday_fixtures import FINANCE_COLUMNS, FINANCE_GROUPS
from integrations.sandbox.monday_http import Answer, Fault
from integrations.sandbox.monday_idempotency import IdempotencyCache
from integrations.sandbox.monday_resolvers import RequestContext, Root
from integrations.sandbox.monday_schema import SCHEMA
from integrations.sandbox.monday_store import MAX_ITEMS_PER_BOARD, MondayStore

API_VERSION = re.compile(r"^\d{4}-\d{2}$")


@dataclass
class _Limits:
    budget: Window
    requests: Window


class MondaySandbox:
    """The sandbox API. Tests drive it through WSGI or a served instance; see the module doc.

    Every limit is on (names in monday_complexity.LIMITS); a test switches one off by name.
    The numbers are the reference's for a personal token on the basic plan (monday.md "Limits").
    """

    def __init__(
        self,
        *,
        clock=None,
        tokens: dict[str, dict] | None = None,
        limits_off: Iterable[str] = (),
        budget_per_minute: int = 10_000_000,
        max_query_complexity: int = 5_000_000,
        requests_per_minute: int = 1000,
        daily_call_limit: int = DAILY_CALLS_BASIC,
        board_item_limit: int = MAX_ITEMS_PER_BOARD,
        latency: float = 0.0,
    ) -> None:
        self.clock = clock or SandboxClock(frozen=False)
        self.store = MondayStore(self.clock)
        self.limits_off = switched_off(limits_off, LIMITS, "Monday.com")
        self.budget_per_minute = budget_per_minute
        self.max_query_complexity = max_query_complexity
        self.requests_per_minute = requests_per_minute
        self.daily_call_limit = daily_call_limit
        self.store.max_items_per_board = board_item_limit
        self.store.enforce_item_limit = "board_items" not in self.limits_off
        self.latency = latency
        self.timeout_hang_seconds = 1.0  # how long an apply_then_timeout answer is held back
        self.requests: list[dict] = []
        self.api_versions: list[str | None] = []
        self._lock = threading.RLock()
        self._tokens: dict[str, dict] = {}
        self._limits: dict[str, _Limits] = {}
        self._daily: dict[str, DailyCount] = {}  # account id -> calls today
        self._faults: list[Fault] = []
        self._idempotency = IdempotencyCache(self.clock)
        self._user_ids = iter(range(40_000_001, 50_000_000))
        for token, info in (tokens or {}).items():
            self.add_token(token, **info)

    def limit_on(self, name: str) -> bool:
        return name not in self.limits_off

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
                self._faults.append(Fault(status, error_code, apply_then_timeout, retry_in_seconds))

    # -- WSGI --------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/") or "/"
        base = environ.get("SCRIPT_NAME", "").rstrip("/")
        if method == "POST" and path.rstrip("/") in ("", "/v2"):
            answer = self._graphql(environ)
        elif method == "GET" and path == "/":
            with self._lock:
                answer = Answer(200, board_view.render_board_list(self.store, base))
        elif method == "GET" and re.fullmatch(r"/boards/\d+/?", path):
            with self._lock:
                board = self.store.boards.get(path.strip("/").split("/")[1])
                answer = (
                    Answer(200, board_view.render_board(self.store, board, base))
                    if board
                    else Answer(404, "<h1>Board not found</h1>")
                )
        elif path.rstrip("/") in ("", "/v2") or path.startswith("/boards/"):
            answer = Answer(405, "<h1>Method not allowed</h1>")
        else:
            answer = Answer(404, "<h1>Not found</h1>")
        return http.respond(answer, start_response)

    # -- the GraphQL endpoint ----------------------------------------------------------------
    def _graphql(self, environ) -> Answer:
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

    def _graphql_answer(self, environ, request_id: str, entry: dict) -> Answer:
        token = (environ.get("HTTP_AUTHORIZATION") or "").strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        user = self._tokens.get(token)
        if user is None:
            return http.unauthenticated(request_id)
        moment = self.clock.now()
        now = moment.timestamp()
        account_id = int(user["account_id"])
        with self._lock:
            limits = self._limits.setdefault(
                token, _Limits(Window(self.budget_per_minute), Window(self.requests_per_minute))
            )
            daily = self._daily.setdefault(user["account_id"], DailyCount())
            if self.limit_on("daily_calls") and not daily.fits(moment, self.daily_call_limit):
                wait = max(daily.reset_in(moment), 1)
                return http.daily_limit_exceeded(wait, request_id, account_id)
            if self.limit_on("requests_per_minute") and not limits.requests.fits(now, 1):
                wait = max(limits.requests.reset_in(now), 1)
                return http.rate_limited(wait, request_id, account_id)
            # Every call counts, refused or failed ones too (support.monday.com "API Rate Limits").
            daily.charge(moment)
            limits.requests.charge(now, 1)
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None and not fault.apply_then_timeout:
            return http.fault_answer(fault, request_id)

        parsed = http.read_body(environ, request_id)
        if isinstance(parsed, Answer):
            return parsed
        query, variables, operation_name = parsed
        try:
            document = parse(query)
        except GraphQLError as exc:
            return http.invalid_document([exc], request_id)
        problems = validate(SCHEMA, document)
        if problems:
            return http.invalid_document(problems, request_id)
        try:
            cost = request_cost(SCHEMA, document, variables, operation_name)
        except (StopIteration, IndexError):
            return http.invalid_document([GraphQLError("No operation to run")], request_id)
        entry["complexity"], entry["mutations"] = cost.complexity, cost.mutations

        key = environ.get("HTTP_IDEMPOTENCY_KEY") if cost.mutations else None
        slot = None
        if key:
            claimed = self._idempotency.claim(token, key, request_id)
            if isinstance(claimed, Answer):
                entry["replayed"] = claimed.status != 409
                return claimed
            slot = claimed
        try:
            answer = self._execute(
                token, user, limits, document, variables, operation_name, cost, request_id
            )
        except BaseException:
            if key:
                self._idempotency.release(token, key, slot, None)
            raise
        executed = answer.status == 200 and "data" in answer.body
        if key:
            self._idempotency.release(token, key, slot, answer if executed else None)
        if fault is not None and fault.apply_then_timeout:
            time.sleep(self.timeout_hang_seconds)
            return Answer(504, "<html><body><h1>504 Gateway Time-out</h1></body></html>")
        return answer

    def _execute(
        self, token, user, limits, document, variables, operation_name, cost, request_id
    ) -> Answer:
        account_id = int(user["account_id"])
        if self.limit_on("query_ceiling") and cost.complexity > self.max_query_complexity:
            return http.max_complexity_exceeded(
                cost.complexity, self.max_query_complexity, request_id, account_id
            )
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            now = self.clock.now().timestamp()
            before = limits.budget.remaining(now)
            reset_in = limits.budget.reset_in(now)
            budget_on = self.limit_on("complexity_budget")
            if budget_on and not limits.budget.fits(now, cost.complexity):
                return http.budget_exhausted(
                    cost.complexity,
                    before,
                    self.budget_per_minute,
                    max(reset_in, 1),
                    request_id,
                    account_id,
                )
            if budget_on:  # off: the cost is still reported, the budget never depletes
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
        for error in result.errors or ():
            original = error.original_error
            if error.path and original is not None and not isinstance(original, GraphQLError):
                raise original  # a bug in the sandbox itself: fail loudly, never hide it
        body: dict = {"data": result.data}
        if result.errors:
            body["errors"] = [http.format_error(e, request_id) for e in result.errors]
            if result.data is None and not any(e.path for e in result.errors):
                body.pop("data")  # variables refused before execution: nothing ran
        body["account_id"] = account_id
        return Answer(200, body)


__all__ = ["MondaySandbox", "MondayApiError"]
