"""Production settings refuse to start without their secrets; development generates them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FERNET_KEY = "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdDE="


def _load_settings(env: dict, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DEBUG"))}
    for name in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DATABASE_URL", "INTEGRATIONS_MODE"):
        clean.pop(name, None)
    clean.update(env, DJANGO_SETTINGS_MODULE="mlconnector.settings", PYTHONPATH=str(ROOT))
    code = "import django; django.setup(); from django.conf import settings; print('OK', settings.DEBUG)"
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


def test_check_deploy_is_clean_when_configured_for_production():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    env.update(
        DEBUG="false",
        SECRET_KEY="a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
        FIELD_ENCRYPTION_KEY=FERNET_KEY,
        ALLOWED_HOSTS="connector.example.com",
        PUBLIC_BASE_URL="https://connector.example.com",
        DJANGO_SETTINGS_MODULE="mlconnector.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("name", ["SECRET_KEY", "FIELD_ENCRYPTION_KEY"])
def test_development_generates_and_keeps_secrets_in_var(tmp_path, name):
    from mlconnector.devkeys import dev_secret

    first = dev_secret(tmp_path, name)
    assert first and dev_secret(tmp_path, name) == first
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o077 == 0
