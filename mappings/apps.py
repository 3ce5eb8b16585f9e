from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_groups(sender, **kwargs):
    from mappings.roles import ensure_finance_reviewer_group

    ensure_finance_reviewer_group()


class MappingsConfig(AppConfig):
    name = "mappings"
    verbose_name = "Mappings and review"

    def ready(self):
        # After every migrate (permissions exist by then): keep the reviewer group in shape.
        post_migrate.connect(_ensure_groups, sender=self)
