"""python manage.py add_totp_device <username>: give a staff user an authenticator (TOTP)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

import audit


class Command(BaseCommand):
    help = (
        "Create a TOTP authenticator for a user and print its otpauth:// URL once (scan it, or "
        "paste it into the app). The secret is shown nowhere else."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--replace", action="store_true", help="remove the user's existing authenticators"
        )

    def handle(self, *args, username, replace, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        existing = TOTPDevice.objects.filter(user=user)
        if existing.filter(confirmed=True).exists() and not replace:
            raise CommandError(
                f"{username} already has an authenticator. Use --replace to issue a new one "
                "(the old one stops working)."
            )
        existing.delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        audit.record("admin.2fa.device_added", actor="add_totp_device", obj=user)
        self.stdout.write(f"Authenticator for {username}; add it to the app, then keep no copy:")
        self.stdout.write(device.config_url)
