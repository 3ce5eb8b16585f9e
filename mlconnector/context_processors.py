"""Template context shared by every admin page (the sandbox banner)."""

from django.conf import settings


def integrations_mode(request):
    return {
        "integrations_mode": settings.INTEGRATIONS_MODE,
        "sandbox_url": settings.SANDBOX_URL if settings.INTEGRATIONS_MODE == "sandbox" else "",
    }
