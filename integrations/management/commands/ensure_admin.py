"""python manage.py ensure_admin: create the first admin login, or say which ones exist."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create an 'admin' superuser with a generated password if no superuser exists."

    def handle(self, *args, **options):
        User = get_user_model()
        existing = list(User.objects.filter(is_superuser=True).values_list("username", flat=True))
        if existing:
            self.stdout.write(f"Admin login(s): {', '.join(existing)} (password unchanged).")
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", "admin@localhost", password)
        path = settings.BASE_DIR / "var" / "admin-password.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(password + "\n")
        path.chmod(0o600)
        self.stdout.write(
            f"Created admin login: user 'admin', password '{password}' (also in {path})."
        )
