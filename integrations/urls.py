"""Integration endpoints: OAuth start/callback and the Exact webhook."""

from django.urls import path

from integrations.webhook_view import ExactWebhookView

urlpatterns: list = [
    path("webhooks/exact/", ExactWebhookView.as_view(), name="exact-webhook"),
]
