"""python manage.py rotate_encryption_key: every secret under the first FIELD_ENCRYPTION_KEY."""

from django.core.management.base import BaseCommand, CommandError

from integrations.key_rotation import rotate_all


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEY. Put the new "
        "key first (NEW,OLD), run this, then remove OLD. Idempotent; safe while the app runs."
    )

    def handle(self, *args, **options):
        report = rotate_all()
        self.stdout.write(
            f"{report.rotated} re-encrypted, {report.current} already under the first key, "
            f"{report.empty} empty."
        )
        if report.unreadable:
            raise CommandError(
                "No key in FIELD_ENCRYPTION_KEY opens these secrets: "
                + "; ".join(report.unreadable)
                + ". Add the key they were written with, or reconnect those connections."
            )
