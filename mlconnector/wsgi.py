"""WSGI entry point (gunicorn mlconnector.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlconnector.settings")
application = get_wsgi_application()
