"""python manage.py run_sandbox: serve the seeded Exact Online and Monday.com sandboxes."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve the sandbox emulations (demo company seeded) at SANDBOX_URL."

    def handle(self, *args, **options):
        # Explicit only: the sandbox signs webhooks with its public secret, which the app accepts
        # in an explicit sandbox mode alone (run_stack sets it when it resolves to the sandbox).
        if (
            settings.INTEGRATIONS_MODE != "sandbox"
            or settings.INTEGRATIONS_MODE_REQUESTED != "sandbox"
        ):
            raise CommandError(
                "run_sandbox only runs with INTEGRATIONS_MODE=sandbox set explicitly "
                "(make run and run_stack set it when no Exact Online client id is configured)."
            )
        from integrations.sandbox.demo import Demo
        from integrations.sandbox.exact import ExactSandbox
        from integrations.sandbox.server import serve

        exact = ExactSandbox(
            client_id=settings.EXACT_CLIENT_ID,
            client_secret=settings.EXACT_CLIENT_SECRET,
            webhook_secret=settings.EXACT_WEBHOOK_SECRET,
        )
        demo = Demo(exact=exact, admin_url=f"{settings.PUBLIC_BASE_URL}/admin/")
        parts = urlsplit(settings.SANDBOX_URL)
        server, url = serve(demo, host=parts.hostname or "127.0.0.1", port=parts.port or 8001)
        self.stdout.write(f"Sandbox at {url} (Monday token: see the page). Ctrl-C stops it.")
        try:
            server.serve_forever_thread.join()
        except (KeyboardInterrupt, AttributeError):
            pass
        finally:
            server.shutdown()
