"""The error the Monday.com sandbox answers with, and the shapes of its error bodies.

Reference: ../shared/reference/monday.md "Errors": HTTP 200 with
`{"data", "errors": [{"message", "locations", "path", "extensions": {"code", "status_code",
"error_data", "request_id"}}]}`; limits add `retry_in_seconds`.
"""

from __future__ import annotations


class MondayApiError(Exception):
    """An application error Monday.com reports in `errors[]` with `extensions.code`."""

    def __init__(
        self,
        code: str,
        message: str,
        error_data: dict | None = None,
        *,
        status_code: int = 200,
        **extra,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.error_data = error_data or {}
        self.status_code = status_code
        self.extra = extra  # further extensions, e.g. retry_in_seconds

    def __str__(self) -> str:
        return self.message

    def extensions(self, request_id: str) -> dict:
        ext = {"code": self.code, "status_code": self.status_code, "request_id": request_id}
        if self.error_data:
            ext["error_data"] = self.error_data
        ext.update(self.extra)
        return ext


def error_body(message: str, extensions: dict, *, account_id: int | None = None) -> dict:
    """A whole-request error body: no data, one error."""
    body: dict = {"errors": [{"message": message, "extensions": extensions}]}
    if account_id is not None:
        body["account_id"] = account_id
    return body
