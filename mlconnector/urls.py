"""URL configuration: admin, health, OAuth callbacks, the Exact webhook."""

from django.contrib import admin
from django.urls import include, path

from mlconnector.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("integrations.urls")),
]
