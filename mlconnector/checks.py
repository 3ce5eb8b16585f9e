"""System checks on the project's settings, and the same refusal for servers that run none."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

E001_HINT = (
    "Set EXACT_CLIENT_ID (and EXACT_CLIENT_SECRET, EXACT_WEBHOOK_SECRET) from your Exact Online "
    "app registration to run live, set INTEGRATIONS_MODE=sandbox to run the sandbox on purpose, "
    "or set DEBUG=true for development."
)


def guessed_sandbox_problem() -> str:
    """Why production must not start, or "" when it may: DEBUG off, INTEGRATIONS_MODE unset or
    "auto" and no Exact client id would once have meant the public sandbox, unnoticed."""
    requested = getattr(settings, "INTEGRATIONS_MODE_REQUESTED", settings.INTEGRATIONS_MODE)
    if settings.DEBUG or requested != "auto" or settings.EXACT_CLIENT_ID:
        return ""
    return (
        "Production refuses to start: DEBUG is off, INTEGRATIONS_MODE is auto (or unset) and no "
        "Exact Online client id is configured (EXACT_CLIENT_ID), so the app cannot tell whether "
        "it should talk to the real Exact Online and Monday.com or to the public sandbox."
    )


# No deploy tag: runserver, migrate and qcluster run these checks before they start, and
# `check --deploy` lists them too.
@checks.register()
def check_integrations_mode(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    problem = guessed_sandbox_problem()
    return [checks.Error(problem, hint=E001_HINT, id="mlconnector.E001")] if problem else []


def refuse_unsafe_start() -> None:
    """For the WSGI/ASGI entry points: gunicorn runs no system checks, so refuse here."""
    problem = guessed_sandbox_problem()
    if problem:
        raise ImproperlyConfigured(f"{problem} {E001_HINT} (mlconnector.E001)")
