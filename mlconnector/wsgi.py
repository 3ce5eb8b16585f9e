"""WSGI entry point (gunicorn mlconnector.wsgi)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlconnector.settings")
application = get_wsgi_application()

# Production that would guess the sandbox never serves (mlconnector.E001).
from mlconnector.checks import refuse_unsafe_start  # noqa: E402

refuse_unsafe_start()

# Everything loaded by now (Django, the apps, the URL map) lives as long as the process: kept out
# of the garbage collector's scans, a full collection in a busy worker costs microseconds instead
# of about 60 ms (a third of a second on busy cores, stalling the webhooks it was answering), and
# workers forked from a preloaded master (gunicorn --preload) keep sharing those memory pages.
gc.freeze()
