from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        # When this process started: /healthz gives a new process one heartbeat window before
        # it calls a missing worker dead (integrations/sync/health.py worker_check).
        self.started_at = timezone.now()
        from integrations.models import ExactDivision, Route
        from integrations.sync import routing

        # A route or division changed here is seen by this process's next webhook at once
        # (other processes within routing.ROUTED_FOR seconds).
        for name, signal in (("saved", post_save), ("deleted", post_delete)):
            for model in (Route, ExactDivision):
                signal.connect(routing.forget_routes, sender=model, dispatch_uid=f"{model}-{name}")
        m2m_changed.connect(
            routing.forget_routes, sender=Route.divisions.through, dispatch_uid="route-divisions"
        )
