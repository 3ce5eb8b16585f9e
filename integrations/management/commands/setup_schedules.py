"""python manage.py setup_schedules: apply integrations/schedules.py (idempotent)."""

from django.core.management.base import BaseCommand

from integrations.schedules import ensure_schedules


class Command(BaseCommand):
    help = "Create or update every django-q2 schedule and remove stale ones."

    def handle(self, *args, **options):
        result = ensure_schedules()
        self.stdout.write(
            f"{result['schedules']} schedule(s) in place, {result['deleted']} removed."
        )
