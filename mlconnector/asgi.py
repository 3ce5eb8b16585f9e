"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlconnector.settings")
application = get_asgi_application()

# Production that would guess the sandbox never serves (mlconnector.E001).
from mlconnector.checks import refuse_unsafe_start  # noqa: E402

refuse_unsafe_start()
