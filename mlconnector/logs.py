"""Log formatting: LOG_FORMAT=json renders each record as one JSON object, secrets scrubbed."""

from __future__ import annotations

from typing import Any

from pythonjsonlogger.json import JsonFormatter

from audit.redaction import scrub


class RedactingJsonFormatter(JsonFormatter):
    """python-json-logger's formatter with the redaction filter's rules applied to every field:
    extras are logged as fields here (plain text drops them), and the traceback is formatted
    again from exc_info, so the filter's scrubbing of the message alone would not be enough."""

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return scrub(log_data)
