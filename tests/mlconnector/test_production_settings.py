"""The settings an operator sets: HTTPS behind a proxy by default, plain HTTP on a private
network when they choose it, each through one environment variable."""

import json
import os
import subprocess
import sys

from tests.subprocess_settings import FERNET_KEY, ROOT, run_python

NAMES = [
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "ADMIN_REQUIRE_2FA",
    "RETENTION_DAYS",
]


def _settings(env: dict) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {NAMES!r}}}))"
    )
    result = run_python(
        code, env, drop=("SECURE_", "SESSION_", "CSRF_", "TRUST_", "ADMIN_"), debug="false"
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_defaults_are_https_behind_a_proxy_with_a_second_factor():
    assert _settings({}) == {
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "ADMIN_REQUIRE_2FA": True,
        "RETENTION_DAYS": 90,
    }


def test_plain_http_on_a_private_network_is_four_variables():
    values = _settings(
        {
            "SECURE_SSL_REDIRECT": "False",
            "SESSION_COOKIE_SECURE": "False",
            "CSRF_COOKIE_SECURE": "False",
            "SECURE_HSTS_SECONDS": "0",
        }
    )
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False and values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["ADMIN_REQUIRE_2FA"] is True  # the second factor stays on


def test_without_a_proxy_the_forwarded_proto_header_is_not_trusted():
    values = _settings({"TRUST_X_FORWARDED_PROTO": "False"})
    assert values["SECURE_PROXY_SSL_HEADER"] is None


def test_hsts_subdomains_and_preload_can_be_left_out():
    values = _settings({"SECURE_HSTS_INCLUDE_SUBDOMAINS": "False", "SECURE_HSTS_PRELOAD": "False"})
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert values["SECURE_HSTS_PRELOAD"] is False


def test_check_deploy_on_plain_http_warns_about_exactly_the_four_choices():
    """What the README promises an operator who turns HTTPS off on a private network."""
    import re

    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    env.update(
        DEBUG="false",
        SECRET_KEY="a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
        FIELD_ENCRYPTION_KEY=FERNET_KEY,
        ALLOWED_HOSTS="connector.internal",
        PUBLIC_BASE_URL="http://connector.internal",
        SECURE_SSL_REDIRECT="False",
        SESSION_COOKIE_SECURE="False",
        CSRF_COOKIE_SECURE="False",
        SECURE_HSTS_SECONDS="0",
        DJANGO_SETTINGS_MODULE="mlconnector.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = set(re.findall(r"security\.W\d+", result.stdout + result.stderr))
    assert found == {"security.W004", "security.W008", "security.W012", "security.W016"}
