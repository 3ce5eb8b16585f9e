"""URL configuration: admin, health, metrics, OAuth callbacks, the Exact webhook."""

from django.contrib import admin
from django.urls import include, path, reverse_lazy

from mlconnector.health import healthz
from mlconnector.metrics import metrics
from mlconnector.two_factor import two_factor

# There is no public site: the admin's "View site" link leads back to the admin home, not to a 404.
admin.site.site_url = reverse_lazy("admin:index")
# Without the navigation sidebar the lists fit a 1280-pixel screen (with it, their last columns
# hid under the filters); the admin home and the breadcrumbs lead everywhere.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("admin/two-factor/", two_factor, name="two-factor"),  # before the admin's catch-all
    path("admin/", admin.site.urls),
    path("", include("integrations.urls")),
]
