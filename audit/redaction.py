"""The one place that knows what a secret looks like: strips them from audit data and logs."""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"
# Keys whose values are credentials wherever they appear (audit before/after, log extras).
SECRET_KEY_PATTERN = re.compile(
    r"(token|secret|password|authorization|code_verifier|^code$|api_key|hashcode|cookie)", re.I
)
# Backstop for free text: bearer headers and token-shaped key=value pairs.
_TEXT_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/=!]+"),
    re.compile(
        r"(?i)((?:access_token|refresh_token|client_secret|code|token)[\"']?\s*[=:]\s*[\"']?)"
        r"[^\s\"'&,}]+"
    ),
]


def redact(value: Any) -> Any:
    """Return a copy of a JSON-like value with every secret-named key's value replaced."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if SECRET_KEY_PATTERN.search(str(k)) else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def redact_text(text: str) -> str:
    for pattern in _TEXT_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


def scrub(value: Any) -> Any:
    """redact() and redact_text() together, all the way down: for structures that leave the
    process whole (JSON log lines, error reports)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in redact(value).items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """Logging backstop: code never logs tokens, and this filter scrubs any that slip through."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Tracebacks carry exception messages: format once here, scrubbed.
            record.exc_text = redact_text(_FORMATTER.formatException(record.exc_info))
        return True


_FORMATTER = logging.Formatter()
