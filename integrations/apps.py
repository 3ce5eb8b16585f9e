from django.apps import AppConfig
from django.utils import timezone


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        # When this process started: /healthz gives a new process one heartbeat window before
        # it calls a missing worker dead (integrations/sync/health.py worker_check).
        self.started_at = timezone.now()
