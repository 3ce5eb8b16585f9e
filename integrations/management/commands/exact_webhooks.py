"""python manage.py exact_webhooks register|list|remove [--division N]."""

from django.core.management.base import BaseCommand, CommandError

from integrations.errors import IntegrationError
from integrations.sync import subscriptions


class Command(BaseCommand):
    help = "Register, list or remove the Exact Online webhook subscriptions the routes need."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["register", "list", "remove"])
        parser.add_argument("--division", type=int, default=None)

    def handle(self, *args, action: str, division: int | None, **options):
        try:
            if action == "register":
                counts = subscriptions.register_subscriptions()
                self.stdout.write(
                    f"{counts['created']} created, {counts['present']} already present."
                )
            elif action == "list":
                for row in subscriptions.list_subscriptions():
                    self.stdout.write(
                        f"{row['connection']}\t{row['division']}\t{row.get('Topic')}\t"
                        f"{row.get('CallbackURL')}\t{row.get('ID')}"
                    )
            else:
                removed = subscriptions.remove_subscriptions(division=division)
                self.stdout.write(f"{removed} subscription(s) removed.")
        except IntegrationError as exc:
            raise CommandError(str(exc)) from exc
