"""URL configuration: admin, health, OAuth callbacks, the Exact webhook."""

from django.contrib import admin
from django.urls import include, path

from mlconnector.health import healthz
from mlconnector.two_factor import two_factor

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/two-factor/", two_factor, name="two-factor"),  # before the admin's catch-all
    path("admin/", admin.site.urls),
    path("", include("integrations.urls")),
]
