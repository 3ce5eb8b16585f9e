"""Optional error reporting to Sentry (SENTRY_DSN), with the log redaction applied to every event."""

from __future__ import annotations

from typing import Any

from audit.redaction import scrub


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Scrub the whole event as the logs are scrubbed: messages, exception values, breadcrumbs
    (log lines, HTTP calls), request headers and query strings, extras. Secret-named keys lose
    their values; token-shaped text is replaced. Never drops the event."""
    return scrub(event)


def init_sentry(dsn: str, *, environment: str, release: str = "") -> None:
    """Start the Sentry SDK with the Django integration. Called from settings, only with a DSN."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    # Reference: https://docs.sentry.io/platforms/python/integrations/django/
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration()],
        send_default_pii=False,  # no user names, e-mail or IP addresses, no cookies
        # Local variables hold tokens under names redaction cannot know (value, body, response).
        include_local_variables=False,
        max_request_body_size="never",  # OAuth callbacks and webhooks carry secrets in bodies
        before_send=before_send,
        traces_sample_rate=0,  # errors only; metrics come from elsewhere
    )
