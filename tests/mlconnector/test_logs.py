"""LOG_FORMAT=json: one JSON object per line with the event name, the correlation id of the
work in hand, and never a secret. Plain text stays the default."""

import json

from tests.subprocess_settings import run_python

# Logged the way product code logs: a stable event name, details in `extra`.
SCRIPT = """
import logging, django
django.setup()
from audit.correlation import bound
log = logging.getLogger("integrations.sync.inbox")
with bound("webhook:42"):
    log.warning("inbox.event.failed", extra={"event_id": 42, "refresh_token": "RT-SECRET-1"})
    try:
        raise ValueError("token endpoint said access_token=AT-SECRET-2")
    except ValueError:
        log.exception("inbox.event.crashed", extra={"event_id": 42})
log.info("exact.oauth.callback.failed Authorization: Bearer BEARER-SECRET-3")
"""


def _run(env: dict):
    return run_python(SCRIPT, env, drop=("LOG_",))


def test_json_lines_carry_the_event_name_and_correlation_id_and_no_secret():
    result = _run({"LOG_FORMAT": "json"})
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]  # all JSON
    failed, crashed, callback = [
        line for line in lines if line["logger"] == "integrations.sync.inbox"
    ]
    assert failed["event"] == "inbox.event.failed" and failed["level"] == "WARNING"
    assert failed["logger"] == "integrations.sync.inbox"
    assert failed["correlation_id"] == "webhook:42" and failed["event_id"] == 42
    assert failed["refresh_token"] == "[redacted]"
    assert crashed["event"] == "inbox.event.crashed" and crashed["correlation_id"] == "webhook:42"
    assert "ValueError" in crashed["exc_info"]
    assert callback["event"].startswith("exact.oauth.callback.failed")
    assert "correlation_id" not in callback  # nothing in hand, so no id
    for secret in ("RT-SECRET-1", "AT-SECRET-2", "BEARER-SECRET-3"):
        assert secret not in result.stderr


def test_plain_text_is_the_default_and_is_redacted_too():
    result = _run({})
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert any(" WARNING integrations.sync.inbox inbox.event.failed" in line for line in lines)
    assert not lines[0].lstrip().startswith("{")
    for secret in ("AT-SECRET-2", "BEARER-SECRET-3"):
        assert secret not in result.stderr


def test_an_unknown_log_format_refuses_to_start():
    result = _run({"LOG_FORMAT": "xml"})
    assert result.returncode != 0 and "LOG_FORMAT" in result.stderr
