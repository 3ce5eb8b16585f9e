"""The "Finance reviewer" group: sees and fixes flagged items, the mappings and the audit trail;
never connections, route changes, raw webhook events, poll cursors or the task queues."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

FINANCE_REVIEWER = "Finance reviewer"
# (app_label, codename). Deliberately absent: anything on ExactConnection/MondayConnection
# (secret-bearing pages), change/add/delete on Route, WebhookEvent (raw bodies; dead events are
# the administrators', who are mailed about them), PollCursor and django_q's task queues.
FINANCE_REVIEWER_PERMISSIONS = [
    ("mappings", "view_glaccount"),
    ("mappings", "view_costcenter"),
    ("mappings", "view_valuemapping"),
    ("mappings", "add_valuemapping"),
    ("mappings", "change_valuemapping"),
    ("mappings", "delete_valuemapping"),
    ("integrations", "view_syncedrecord"),
    ("integrations", "change_syncedrecord"),  # re-sync
    ("integrations", "view_route"),
    ("audit", "view_auditevent"),
]


def ensure_finance_reviewer_group() -> Group:
    """Create or update the group with exactly these permissions. Idempotent."""
    group, _ = Group.objects.get_or_create(name=FINANCE_REVIEWER)
    perms = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in FINANCE_REVIEWER_PERMISSIONS
    ]
    group.permissions.set(perms)  # also takes away what an earlier version granted
    return group
