"""Integration endpoints: OAuth start/callback and the Exact webhook."""

urlpatterns: list = []
