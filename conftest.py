"""Loaded by pytest before Django settings: tests run with development defaults."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("INTEGRATIONS_MODE", "sandbox")
# A fixed key so ciphertexts in tests are reproducible and never depend on var/.
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdDE=")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("EXACT_WEBHOOK_SECRET", "test-webhook-secret")
os.environ.setdefault("PUBLIC_BASE_URL", "https://connector.example.test")
