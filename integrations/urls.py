"""Integration endpoints: OAuth start/callback and the Exact webhook."""

from django.urls import path

from integrations.views import exact_oauth as views
from integrations.views import monday_oauth as monday_views
from integrations.views.webhook import ExactWebhookView

urlpatterns: list = [
    path("webhooks/exact/", ExactWebhookView.as_view(), name="exact-webhook"),
    path("integrations/exact/connect/", views.exact_oauth_start, name="exact-oauth-start"),
    path("integrations/exact/callback/", views.exact_oauth_callback, name="exact-oauth-callback"),
    path("integrations/monday/start/", monday_views.monday_oauth_start, name="monday-oauth-start"),
    path(
        "integrations/monday/callback/",
        monday_views.monday_oauth_callback,
        name="monday-oauth-callback",
    ),
]
