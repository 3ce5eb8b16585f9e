"""Test settings: development defaults and fixed keys, then the real settings module."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("INTEGRATIONS_MODE", "sandbox")
# A fixed key so tests never depend on var/ and ciphertexts can be checked.
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdDE=")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("EXACT_WEBHOOK_SECRET", "test-webhook-secret")
os.environ.setdefault("PUBLIC_BASE_URL", "https://connector.example.test")

from mlconnector.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast test logins
