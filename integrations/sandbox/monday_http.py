"""HTTP shapes of the Monday.com sandbox: reading the request body, and every error answer.

Reference: ../shared/reference/monday.md "Requests" and "Errors". Codes and shapes that no
source settles are marked `# Unconfirmed:` where they are produced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from graphql import GraphQLError

from integrations.sandbox.monday_errors import error_body

REASONS = {
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
FAULT_MESSAGES = {
    "COMPLEXITY_BUDGET_EXHAUSTED": "Complexity budget exhausted",
    "RATE_LIMIT_EXCEEDED": "Minute limit rate exceeded",
    "DAILY_LIMIT_EXCEEDED": "Daily limit exceeded",
    "INTERNAL_SERVER_ERROR": "Internal server error",
    "UNAUTHENTICATED": "Not Authenticated",
}


@dataclass
class Fault:
    status: int | None
    error_code: str | None
    apply_then_timeout: bool
    retry_in_seconds: int | None


@dataclass
class Answer:
    status: int
    body: dict | str  # a dict is sent as JSON, a str as HTML
    headers: list = field(default_factory=list)


def respond(answer: Answer, start_response):
    if isinstance(answer.body, dict):
        payload = json.dumps(answer.body, ensure_ascii=False).encode("utf-8")
        content_type = "application/json; charset=utf-8"
    else:
        payload = answer.body.encode("utf-8")
        content_type = "text/html; charset=utf-8"
    headers = [("Content-Type", content_type), ("Content-Length", str(len(payload)))]
    headers += answer.headers
    start_response(f"{answer.status} {REASONS.get(answer.status, 'Error')}", headers)
    return [payload]


def unauthenticated(request_id: str) -> Answer:
    # Reference: monday.md "Errors": UNAUTHENTICATED / "Not Authenticated" (401).
    # Unconfirmed: whether the 401 body carries errors[] in every API version.
    ext = {"code": "UNAUTHENTICATED", "status_code": 401, "request_id": request_id}
    return Answer(401, error_body("Not Authenticated", ext))


def rate_limited(wait: int, request_id: str, account_id: int) -> Answer:
    # Reference: monday.md "Errors": RATE_LIMIT_EXCEEDED / "Minute limit rate exceeded",
    # HTTP 429 with Retry-After.
    ext = {
        "code": "RATE_LIMIT_EXCEEDED",
        "status_code": 429,
        "retry_in_seconds": wait,
        "request_id": request_id,
    }
    body = error_body("Minute limit rate exceeded", ext, account_id=account_id)
    return Answer(429, body, [("Retry-After", str(wait))])


def daily_limit_exceeded(wait: int, request_id: str, account_id: int) -> Answer:
    # Reference: monday.md "Errors" names DAILY_LIMIT_EXCEEDED; support.monday.com "API Rate
    # Limits": the count resets at midnight UTC. Unconfirmed: the HTTP status (429 here, as for
    # the minute limit), the message, and that retry_in_seconds / Retry-After come with it.
    ext = {
        "code": "DAILY_LIMIT_EXCEEDED",
        "status_code": 429,
        "retry_in_seconds": wait,
        "request_id": request_id,
    }
    body = error_body("Daily limit exceeded", ext, account_id=account_id)
    return Answer(429, body, [("Retry-After", str(wait))])


def max_complexity_exceeded(cost: int, ceiling: int, request_id: str, account_id: int) -> Answer:
    # Unconfirmed: the exact message and HTTP status; the code is in the reference.
    ext = {
        "code": "REQUEST_MAX_COMPLEXITY_EXCEEDED",
        "status_code": 200,
        "complexity": cost,
        "max_complexity": ceiling,
        "request_id": request_id,
    }
    message = f"Query has complexity of {cost}, which exceeds max complexity of {ceiling}"
    return Answer(200, error_body(message, ext, account_id=account_id))


def budget_exhausted(
    cost: int, left: int, limit: int, retry_in: int, request_id: str, account_id: int
) -> Answer:
    # Reference: monday.md "Errors"; the shape follows airbyte's source-monday fixture
    # 200_complexityBudgetExhausted.json (HTTP 200, status_code 429 in the extensions).
    ext = {
        "code": "COMPLEXITY_BUDGET_EXHAUSTED",
        "status_code": 429,
        "complexity": cost,
        "complexity_budget_left": left,
        "complexity_budget_limit": limit,
        "retry_in_seconds": retry_in,
        "request_id": request_id,
    }
    return Answer(200, error_body("Complexity budget exhausted", ext, account_id=account_id))


def idempotency_in_flight(request_id: str) -> Answer:
    # Unconfirmed: the body and code of Monday's 409; the reference names only the status and
    # the Retry-After header.
    ext = {"code": "IDEMPOTENCY_KEY_IN_USE", "status_code": 409, "request_id": request_id}
    body = error_body("A request with this Idempotency-Key is already in progress", ext)
    return Answer(409, body, [("Retry-After", "1")])


def format_error(error: GraphQLError, request_id: str) -> dict:
    formatted = error.formatted
    extensions = dict(formatted.get("extensions") or {})
    if "code" not in extensions and not error.path:
        extensions["code"] = "GRAPHQL_VALIDATION_FAILED"
    extensions.setdefault("request_id", request_id)
    formatted["extensions"] = extensions
    return formatted


def invalid_document(errors, request_id: str) -> Answer:
    # Reference: monday.md "Errors" names GRAPHQL_VALIDATION_FAILED.
    # Unconfirmed: its HTTP status (200 here) and that syntax errors use the same code.
    return Answer(
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


def bad_request(message: str, request_id: str) -> Answer:
    # Unconfirmed: Monday's exact answer to a malformed HTTP body; a 400 is what HTTP suggests.
    return Answer(
        400,
        error_body(message, {"code": "BAD_REQUEST", "status_code": 400, "request_id": request_id}),
    )


def read_body(environ, request_id: str):
    content_type = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return bad_request("Content-Type must be application/json", request_id)
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return bad_request("The body is not valid JSON", request_id)
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return bad_request('The body must be a JSON object with a "query" string', request_id)
    variables = body.get("variables")
    if variables is None:
        variables = {}
    if not isinstance(variables, dict):
        return bad_request('"variables" must be a JSON object', request_id)
    operation_name = body.get("operationName")
    return body["query"], variables, operation_name if isinstance(operation_name, str) else None


def fault_answer(fault: Fault, request_id: str) -> Answer:
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
        message = FAULT_MESSAGES.get(fault.error_code, fault.error_code)
        return Answer(fault.status or 200, error_body(message, ext), headers)
    status = fault.status or 500
    if status in (502, 503, 504):
        return Answer(status, f"<html><body><h1>{status} {REASONS[status]}</h1></body></html>")
    if status == 429:
        wait = fault.retry_in_seconds or 1
        ext = {"code": "RATE_LIMIT_EXCEEDED", "status_code": 429, "retry_in_seconds": wait}
        return Answer(
            429, error_body("Minute limit rate exceeded", ext), [("Retry-After", str(wait))]
        )
    if status == 401:
        ext = {"code": "UNAUTHENTICATED", "status_code": 401}
        return Answer(401, error_body("Not Authenticated", ext))
    ext = {"code": "INTERNAL_SERVER_ERROR", "status_code": status, "request_id": request_id}
    return Answer(status, error_body(REASONS.get(status, "Error"), ext))
