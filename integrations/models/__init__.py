"""The integrations app's models, one module per area; every model is importable from here."""

from integrations.models.alerts import AlertKind, AlertPreferences, SentAlert
from integrations.models.connections import (
    ConnectionStatus,
    ExactConnection,
    ExactDivision,
    MondayBoard,
    MondayBudget,
    MondayConnection,
    RateBudget,
)
from integrations.models.inbox import InboxJob, PollCursor, WebhookEvent, WebhookEventQuerySet
from integrations.models.metrics import ApiCallCount
from integrations.models.routes import (
    ColumnRole,
    Entity,
    Route,
    RouteBoard,
    SyncedLine,
    SyncedRecord,
)
from integrations.models.runs import SyncRun

__all__ = [
    "AlertKind",
    "AlertPreferences",
    "ApiCallCount",
    "ColumnRole",
    "ConnectionStatus",
    "Entity",
    "ExactConnection",
    "ExactDivision",
    "MondayBoard",
    "MondayBudget",
    "MondayConnection",
    "InboxJob",
    "PollCursor",
    "RateBudget",
    "Route",
    "RouteBoard",
    "SentAlert",
    "SyncedLine",
    "SyncedRecord",
    "SyncRun",
    "WebhookEvent",
    "WebhookEventQuerySet",
]
