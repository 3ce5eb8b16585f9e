"""The project package as an app, so its system checks are registered at startup."""

from django.apps import AppConfig


class MlconnectorConfig(AppConfig):
    name = "mlconnector"
    verbose_name = "ml-connector"

    def ready(self):
        from mlconnector import checks  # noqa: F401 - registers the checks
