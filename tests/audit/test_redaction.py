import logging

from audit.redaction import RedactingFilter, redact, redact_text


def test_redact_replaces_secret_named_keys_at_any_depth():
    data = {"access_token": "a", "list": [{"client_secret": "b", "ok": 1}], "Authorization": "c"}
    assert redact(data) == {
        "access_token": "[redacted]",
        "list": [{"client_secret": "[redacted]", "ok": 1}],
        "Authorization": "[redacted]",
    }


def test_redact_text_scrubs_bearer_headers_and_token_pairs():
    text = "Authorization: Bearer abc.def refresh_token=xyz&code=123"
    cleaned = redact_text(text)
    assert "abc.def" not in cleaned and "xyz" not in cleaned and "123" not in cleaned


def test_filter_scrubs_messages_and_tracebacks():
    logger = logging.getLogger("test.redaction")
    record = None
    try:
        raise ValueError("refresh_token=SECRET-IN-EXCEPTION")
    except ValueError:
        import sys

        record = logger.makeRecord(
            "test",
            logging.ERROR,
            __file__,
            1,
            "got access_token=%s",
            ("SECRET-ARG",),
            sys.exc_info(),
        )
    RedactingFilter().filter(record)
    text = logging.Formatter().format(record)
    assert "SECRET-ARG" not in text and "SECRET-IN-EXCEPTION" not in text
    assert "ValueError" in text
