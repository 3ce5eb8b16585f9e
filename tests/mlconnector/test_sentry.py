"""Optional Sentry: on only with SENTRY_DSN, no personal data, every event scrubbed of secrets."""

import json

from tests.subprocess_settings import run_python

SECRETS = ["RT-1", "BEARER-2", "AT-3", "CODE-4", "SESSION-5", "CS-6", "RT-7", "AT-8"]


def test_before_send_scrubs_messages_exception_values_breadcrumbs_and_request():
    from mlconnector.sentry import before_send

    event = {
        "message": "refresh failed: refresh_token=RT-1",
        "logentry": {"message": "exact.oauth.failed %s", "params": ["Bearer BEARER-2"]},
        "exception": {"values": [{"type": "OAuthError", "value": "access_token=AT-3 refused"}]},
        "breadcrumbs": {
            "values": [
                {"category": "httplib", "message": "POST /token code=CODE-4"},
                {"category": "query", "data": {"refresh_token": "RT-7"}},
            ]
        },
        "request": {
            "headers": {"Cookie": "sessionid=SESSION-5", "Accept": "text/html"},
            "query_string": "code=CODE-4&state=abc",
        },
        "extra": {"client_secret": "CS-6", "event_id": 42},
        "contexts": {"trace": {"op": "task"}},
        "tags": {"route": "7"},
        "threads": {"values": [{"stacktrace": {"frames": [{"vars": {"access": "token=AT-8"}}]}}]},
    }
    scrubbed = before_send(event, {})
    text = json.dumps(scrubbed)
    for secret in SECRETS:
        assert secret not in text, secret
    # What helps debugging survives.
    assert scrubbed["exception"]["values"][0]["type"] == "OAuthError"
    assert scrubbed["request"]["headers"]["Accept"] == "text/html"
    assert "state=abc" in scrubbed["request"]["query_string"]
    assert scrubbed["extra"]["event_id"] == 42 and scrubbed["tags"] == {"route": "7"}


# Loads the real settings, swaps the transport for one that keeps envelopes, reports an error.
SCRIPT = """
import json, logging, django
django.setup()
import sentry_sdk
client = sentry_sdk.get_client()
print("ACTIVE", client.is_active())
if client.is_active():
    sent = []
    class Keep(sentry_sdk.transport.Transport):
        def capture_envelope(self, envelope):
            sent.extend(item.payload.json for item in envelope.items if item.type == "event")
    client.transport = Keep(client.options)
    print("PII", client.options["send_default_pii"])
    logging.getLogger("integrations.exact.connections").info("exact.token.refreshed refresh_token=RT-7")
    try:
        raise RuntimeError("Exact said access_token=AT-3 is invalid")
    except RuntimeError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush()
    print("EVENTS", json.dumps(sent))
"""


def _run(env: dict):
    return run_python(SCRIPT, env, drop=("SENTRY",))


def test_without_a_dsn_sentry_is_never_initialised():
    result = _run({})
    assert result.returncode == 0, result.stderr
    assert "ACTIVE False" in result.stdout


def test_with_a_dsn_errors_are_reported_without_pii_and_scrubbed():
    result = _run({"SENTRY_DSN": "http://public@127.0.0.1:9/1"})  # nothing listens on port 9
    assert result.returncode == 0, result.stderr
    assert "ACTIVE True" in result.stdout and "PII False" in result.stdout
    events = json.loads(result.stdout.split("EVENTS ", 1)[1])
    assert len(events) == 1
    (event,) = events
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    crumbs = [c.get("message", "") for c in event["breadcrumbs"]["values"]]
    assert any(c.startswith("exact.token.refreshed") for c in crumbs)
    text = json.dumps(event)
    assert "AT-3" not in text and "RT-7" not in text
