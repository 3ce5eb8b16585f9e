"""Production settings refuse to start without their secrets; development generates them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FERNET_KEY = "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdDE="


# Settings a test must not inherit from the environment that runs the suite.
CONFIGURED = (
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEY",
    "INTEGRATIONS_MODE",
    "EXACT_CLIENT_ID",
    "EXACT_CLIENT_SECRET",
    "EXACT_WEBHOOK_SECRET",
)
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
    "FIELD_ENCRYPTION_KEY": FERNET_KEY,
    "ALLOWED_HOSTS": "connector.example.com",
    "PUBLIC_BASE_URL": "https://connector.example.com",
}


def _load_settings(env: dict, cwd: Path = ROOT, code: str = "") -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DEBUG"))}
    for name in (*CONFIGURED, "DATABASE_URL"):
        clean.pop(name, None)
    clean.update(env, DJANGO_SETTINGS_MODULE="mlconnector.settings", PYTHONPATH=str(ROOT))
    code = code or (
        "import django; django.setup(); from django.conf import settings; print('OK', settings.DEBUG)"
    )
    return subprocess.run(
        [sys.executable, "-c", code], env=clean, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_production_refuses_to_start_without_secret_key():
    result = _load_settings({"DEBUG": "false", "FIELD_ENCRYPTION_KEY": FERNET_KEY})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_refuses_to_start_without_encryption_key():
    result = _load_settings({"DEBUG": "false", "SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY is not set" in result.stderr


def test_production_starts_with_both_secrets():
    result = _load_settings(
        {"DEBUG": "false", "SECRET_KEY": "x" * 50, "FIELD_ENCRYPTION_KEY": FERNET_KEY}
    )
    assert result.returncode == 0, result.stderr
    assert "OK False" in result.stdout


def test_debug_defaults_to_off_so_production_is_the_default():
    result = _load_settings({"SECRET_KEY": "x" * 50, "FIELD_ENCRYPTION_KEY": FERNET_KEY})
    assert "OK False" in result.stdout


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DEBUG"))}
    for name in CONFIGURED:
        clean.pop(name, None)
    clean.update(env, DJANGO_SETTINGS_MODULE="mlconnector.settings")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=clean,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_is_clean_when_configured_for_production():
    # A production configuration names its Exact Online app: without it, see the tests below.
    env = {**PRODUCTION, "EXACT_CLIENT_ID": "a-registered-exact-app"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("mode", [None, "auto"], ids=["unset", "auto"])
def test_check_deploy_refuses_production_that_would_guess_the_sandbox(mode):
    env = dict(PRODUCTION, **({"INTEGRATIONS_MODE": mode} if mode else {}))
    result = _manage("check", "--deploy", env=env)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "mlconnector.E001" in output
    assert "no Exact Online client id" in output and "EXACT_CLIENT_ID" in output


def test_every_management_command_refuses_production_that_would_guess_the_sandbox():
    # Plain `check` runs the checks that runserver, migrate and qcluster run before starting.
    result = _manage("check", env=PRODUCTION)
    assert result.returncode != 0
    assert "mlconnector.E001" in result.stdout + result.stderr


def test_wsgi_server_refuses_production_that_would_guess_the_sandbox():
    # gunicorn runs no system checks: the WSGI entry point refuses by itself.
    result = _load_settings(PRODUCTION, code="import mlconnector.wsgi; print('STARTED')")
    assert result.returncode != 0
    assert "STARTED" not in result.stdout
    assert "ImproperlyConfigured" in result.stderr and "EXACT_CLIENT_ID" in result.stderr


def test_production_without_exact_client_id_never_resolves_to_the_sandbox():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.INTEGRATIONS_MODE, repr(settings.EXACT_WEBHOOK_SECRET))"
    )
    result = _load_settings(PRODUCTION, code=code)
    assert result.stdout.split() == ["live", "''"], result.stderr


def test_explicit_sandbox_mode_is_allowed_in_production():
    env = {**PRODUCTION, "INTEGRATIONS_MODE": "sandbox"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_development_auto_mode_is_sandbox_without_the_public_webhook_secret():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.INTEGRATIONS_MODE, repr(settings.EXACT_WEBHOOK_SECRET))"
    )
    result = _load_settings({"DEBUG": "true"}, code=code)
    assert result.stdout.split() == ["sandbox", "''"], result.stderr


def test_explicit_sandbox_mode_gets_the_sandbox_webhook_secret():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.INTEGRATIONS_MODE, settings.EXACT_WEBHOOK_SECRET)"
    )
    result = _load_settings({"DEBUG": "true", "INTEGRATIONS_MODE": "sandbox"}, code=code)
    assert result.stdout.split() == ["sandbox", "sandbox-webhook-secret"], result.stderr


@pytest.mark.parametrize("name", ["SECRET_KEY", "FIELD_ENCRYPTION_KEY"])
def test_development_generates_and_keeps_secrets_in_var(tmp_path, name):
    from mlconnector.devkeys import dev_secret

    first = dev_secret(tmp_path, name)
    assert first and dev_secret(tmp_path, name) == first
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o077 == 0


def test_the_admin_home_names_the_libraries_apps_in_words(admin_client):
    page = admin_client.get("/admin/").content.decode()
    for name in ("Login lockouts", "Authenticator apps (second factor)", "Background tasks"):
        assert name in page
    assert ">Axes<" not in page and "Otp_Totp" not in page and ">Django Q<" not in page
