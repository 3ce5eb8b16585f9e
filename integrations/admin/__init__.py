"""The admin, one module per area; importing them registers their ModelAdmins."""

from integrations.admin import (  # noqa: F401
    alerts,
    audit_scopes,
    connections,
    monday,
    reconcile,
    review,
    routes,
)
