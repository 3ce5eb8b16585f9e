"""Admin for the integrations app. Each area lives in its own module, registered on import."""

# Exact Online connections are registered below this line (ExactConnectionAdmin).

from integrations import admin_sync  # noqa: E402,F401  routes, synced records, inbox
