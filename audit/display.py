"""The audit trail in words: what an action means, who did it, when (local time with its zone),
and what changed, for people reading the admin rather than for code."""

from __future__ import annotations

import ast
from typing import Any

from django.utils import timezone

# Internal action name -> what happened, as a sentence an admin or finance reviewer reads.
ACTIONS: dict[str, str] = {
    "admin.2fa.device_added": "Added an authenticator app for the second sign-in step",
    "admin.2fa.enrolled": "Set up the second sign-in step",
    "alerts.preferences_changed": "Changed their alert emails",
    "exact.connected": "Connected Exact Online",
    "exact.division_moved": "Moved an Exact Online division to another connection",
    "exact.needs_reauth": "Exact Online needs to be authorized again",
    "exact.reauthorized": "Authorized Exact Online again",
    "exact.token_refreshed": "Renewed the Exact Online access",
    "item.created": "Created the item on the Monday.com board",
    "item.updated": "Updated the item on the Monday.com board",
    "item.failed": "Could not write the item to Monday.com",
    "item.flagged": "Flagged the item for review",
    "item.unflagged": "Cleared the item from the review queue",
    "item.marked_deleted": "Marked the item as deleted in Exact Online",
    "mapping.set": "Saved a mapping",
    "mapping.deleted": "Deleted a mapping",
    "mappings.reference_refreshed": "Refreshed GL accounts and cost centers from Exact Online",
    "monday.boards.refreshed": "Refreshed the list of Monday.com boards",
    "monday.connection.connected": "Connected Monday.com",
    "monday.connection.needs_attention": "The Monday.com connection needs attention",
    "poll.completed": "Checked Exact Online for changes",
    "poll.cursor_reset": "Reset where the next check for changes starts",
    "reconcile.fixed": "Repaired a difference between Exact Online and the board",
    "records.resynced": "Synced items again on request",
    "retention.purged": "Removed old records past their keeping period",
    "route.board_rolled_over": "Moved the route on to a new board",
    "route.board_full": "Monday.com found the board full",
    "route.changed": "Changed a route",
    "route.created": "Created a route",
    "route.imported": "Imported a route's settings",
    "secrets.rotated": "Re-encrypted the stored secrets with a new key",
    "sync.finished": "Finished a sync with Exact Online",
    "sync.paused": "Paused a sync with Exact Online",
    "sync.resumed": "Resumed a sync with Exact Online",
    "sync.started": "Started a sync with Exact Online",
    "webhook.accepted": "Received a change notice from Exact Online",
    "webhook.dead": "Gave up on a change notice after repeated failures",
    "webhook.ignored": "Ignored a change notice that needs no action",
    "webhook.rejected": "Refused a change notice that failed its checks",
    "webhook.retried": "Retried a change notice",
    "webhook.subscribed": "Subscribed to Exact Online change notices",
    "webhook.unsubscribed": "Stopped Exact Online change notices",
}

# Named system components (audit.record's string actors) -> who that is, in words.
COMPONENTS: dict[str, str] = {
    "system": "System",
    "sync": "Automatic sync",
    "webhook": "Exact Online change notice",
    "poll": "Scheduled check for changes",
    "scheduler": "Scheduler",
    "manual": "Re-sync on request",
    "backfill": "First backfill",
}


def action_words(action: str) -> str:
    """The sentence for an action; an unknown name still reads as words ("x.some_thing" ->
    "X: some thing")."""
    if action in ACTIONS:
        return ACTIONS[action]
    parts = [p.replace("_", " ").strip() for p in action.split(".") if p.strip()]
    if not parts:
        return action
    text = ": ".join(parts)
    return text[0].upper() + text[1:]


def actor_words(event) -> str:
    """A person by name when a user acted; otherwise the system component in words."""
    user = event.actor_user
    if user is not None:
        full = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
        return full or user.get_username()
    return COMPONENTS.get(event.actor, event.actor.replace("_", " ").capitalize() or "System")


def when(value) -> str:
    """Local time with its zone shown, e.g. "30 Nov 2026, 14:05:09 CET"."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return local.strftime("%d %b %Y, %H:%M:%S %Z").strip()


def object_kind(object_type: str) -> str:
    """ "integrations.Route" -> "Route", by the model's own verbose name when it is known."""
    if not object_type:
        return "—"
    from django.apps import apps

    try:
        name = str(apps.get_model(object_type)._meta.verbose_name)
        return name[:1].upper() + name[1:]  # "Exact Online connection" keeps its capitals
    except (LookupError, ValueError):
        return object_type.rsplit(".", 1)[-1]


def _value(v: Any) -> str:
    if v is None or v == "":
        return "(empty)"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        return ", ".join(_value(x) for x in v) or "(none)"
    return str(v)


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix or "value": data} if data is not None else {}
    flat: dict[str, Any] = {}
    for key, v in data.items():
        name = f"{prefix} {key}".strip().replace("_", " ")
        if isinstance(v, dict) and v:
            flat.update(_flatten(v, name))
        else:
            flat[name] = v
    return flat


def change_lines(before: Any, after: Any) -> list[str]:
    """One "field: old → new" line per field that changed (or "field: value" when there is no
    before), nested snapshots flattened to "snapshot columns status"-style names."""
    old, new = _flatten(before), _flatten(after)
    lines = []
    for name in list(dict.fromkeys([*old, *new])):
        if name in old and name in new:
            if old[name] != new[name]:
                lines.append(f"{name}: {_value(old[name])} → {_value(new[name])}")
        elif name in new:
            lines.append(
                f"{name}: {_value(new[name])}" if not old else f"{name}: → {_value(new[name])}"
            )
        else:
            lines.append(f"{name}: {_value(old[name])} → (removed)")
    return lines


def message_words(message: str) -> str:
    """Messages stored as a Python dict (e.g. re-sync counts) read as "3 synced, 1 flagged"."""
    text = (message or "").strip()
    if text.startswith("{") and text.endswith("}"):
        try:
            data = ast.literal_eval(text)  # literal_eval only: never code
        except (ValueError, SyntaxError):
            return message
        if isinstance(data, dict):
            if all(isinstance(v, int) for v in data.values()):
                return ", ".join(f"{v} {str(k).replace('_', ' ')}" for k, v in data.items()) + "."
            return "; ".join(f"{k}: {_value(v)}" for k, v in data.items())
    return message
