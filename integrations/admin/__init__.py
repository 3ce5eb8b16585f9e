"""The admin, one module per area; importing them registers their ModelAdmins."""

from integrations.admin import connections, monday, reconcile, review, routes  # noqa: F401
