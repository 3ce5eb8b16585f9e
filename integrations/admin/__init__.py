"""The admin, one module per area; importing them registers their ModelAdmins."""

from integrations.admin import alerts, connections, monday, reconcile, review, routes  # noqa: F401
