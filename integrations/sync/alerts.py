"""Alert emails: who receives which, each condition mailed once, the daily digest.

Conditions are found by checking state (send_alerts, every few minutes; send_daily_digest,
daily), not by hooks in the token or inbox code: a missed run is caught by the next, and the
unique SentAlert(kind, key) claim makes "once per condition" hold across runs and workers.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import mail
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

import audit
from audit.models import AuditEvent
from integrations.exact.tokens import IDLE_WARNING_AFTER
from integrations.models import (
    AlertKind,
    AlertPreferences,
    ConnectionStatus,
    ExactConnection,
    MondayConnection,
    SentAlert,
    SyncedRecord,
    WebhookEvent,
)
from integrations.sync import alert_mail, review
from mappings.roles import FINANCE_REVIEWER

logger = logging.getLogger(__name__)

# Administrators: whoever may manage the Exact Online connections (superusers included).
ADMIN_PERMISSION = ("integrations", "change_exactconnection")
WHY = {
    AlertKind.CONNECTION: "you administer ml-connector's connections",
    AlertKind.DEAD_EVENTS: "you administer ml-connector's connections",
    AlertKind.DAILY_DIGEST: f"you are in the “{FINANCE_REVIEWER}” group",
}


def _admins():
    app, codename = ADMIN_PERMISSION
    perm = Permission.objects.filter(content_type__app_label=app, codename=codename).first()
    who = Q(is_superuser=True)
    if perm is not None:
        who |= Q(user_permissions=perm) | Q(groups__permissions=perm)
    return get_user_model().objects.filter(who, is_staff=True)


def _reviewers():
    return get_user_model().objects.filter(groups__name=FINANCE_REVIEWER, is_staff=True)


def audience(kind: str):
    """The users an alert kind is for, whether or not they switched it off."""
    users = _reviewers() if kind == AlertKind.DAILY_DIGEST else _admins()
    return users.filter(is_active=True).distinct()


def recipients(kind: str) -> list:
    """The users who receive `kind`: its audience, with an email address, not switched off."""
    off = AlertPreferences.objects.filter(**{kind: False}).values("user_id")
    return list(audience(kind).exclude(email="").exclude(pk__in=off).order_by("pk"))


def _send_once(kind: str, key: str, message: alert_mail.Mail, *, covers_until=None) -> int:
    """Claim (kind, key) and mail each recipient; returns how many were mailed, 0 when the
    condition was already alerted. A failing mail server rolls the claim back, so the next run
    tries again; nothing is half-sent to some and forgotten for the rest."""
    users = recipients(kind)
    try:
        with transaction.atomic():
            SentAlert.objects.create(
                kind=kind, key=key, covers_until=covers_until, recipients=len(users)
            )
            messages = [
                mail.EmailMessage(
                    subject=f"{settings.EMAIL_SUBJECT_PREFIX}{message.subject}",
                    body=f"Hello {user.get_full_name() or user.get_username()},\n\n"
                    f"{message.body}{alert_mail.footer(WHY[kind])}",
                    to=[user.email],
                )
                for user in users
            ]
            if messages:
                with mail.get_connection() as connection:
                    connection.send_messages(messages)
    except IntegrityError:
        return 0  # already alerted (or another worker is alerting it right now)
    except OSError as exc:  # smtplib's errors included: the claim is rolled back, retried later
        logger.warning(
            "alerts.send_failed", extra={"kind": kind, "error_class": type(exc).__name__}
        )
        return 0
    logger.info("alerts.sent", extra={"kind": kind, "key": key, "recipients": len(users)})
    return len(users)


def _change_path(model, pk: int) -> str:
    return reverse(f"admin:integrations_{model._meta.model_name}_change", args=[pk])


def check_connections() -> int:
    """Mail the administrators once per connection that entered "needs re-authorization" and
    once per idle period of an Exact connection nearing its 30-day expiry. Returns mails sent."""
    sent = 0
    for conn in ExactConnection.objects.filter(status=ConnectionStatus.NEEDS_REAUTH):
        changed = conn.status_changed_at.isoformat() if conn.status_changed_at else "-"
        message = alert_mail.connection_needs_reauth(
            conn.name, conn.last_error, _change_path(ExactConnection, conn.pk)
        )
        sent += _send_once(AlertKind.CONNECTION, f"exact:{conn.pk}:reauth:{changed}", message)
    now = timezone.now()
    idle = ExactConnection.objects.filter(
        status=ConnectionStatus.CONNECTED, refreshed_at__lt=now - IDLE_WARNING_AFTER
    )
    for conn in idle:
        idle_days = (now - conn.refreshed_at).days
        message = alert_mail.connection_expiring(
            conn.name, idle_days, max(30 - idle_days, 0), _change_path(ExactConnection, conn.pk)
        )
        key = f"exact:{conn.pk}:idle:{conn.refreshed_at.isoformat()}"
        sent += _send_once(AlertKind.CONNECTION, key, message)
    for conn in MondayConnection.objects.filter(status=ConnectionStatus.NEEDS_REAUTH):
        # Its audit event marks the state change (mark_monday_needs_attention records one per
        # change, not per failed call).
        change = (
            AuditEvent.objects.filter(
                action="monday.connection.needs_attention",
                object_type=MondayConnection._meta.label,
                object_id=str(conn.pk),
            )
            .values_list("pk", flat=True)
            .first()
        )
        message = alert_mail.monday_needs_attention(
            conn.name, conn.last_error, _change_path(MondayConnection, conn.pk)
        )
        sent += _send_once(AlertKind.CONNECTION, f"monday:{conn.pk}:{change or '-'}", message)
    return sent


def check_dead_events() -> int:
    """Mail the administrators once about the events that went dead since the last such mail
    (one mail per batch, however many events). Returns mails sent."""
    last = SentAlert.objects.filter(kind=AlertKind.DEAD_EVENTS).order_by("-covers_until").first()
    dead = WebhookEvent.objects.filter(state=WebhookEvent.State.DEAD, processed_at__isnull=False)
    if last and last.covers_until:
        dead = dead.filter(processed_at__gt=last.covers_until)
    total = dead.count()
    if not total:
        return 0
    until = dead.aggregate(until=Max("processed_at"))["until"]
    listed = list(dead.order_by("processed_at")[: alert_mail.LISTED])
    notices = _described(listed)
    message = alert_mail.dead_events(notices, total, reverse("admin:review_queue"))
    return _send_once(
        AlertKind.DEAD_EVENTS, f"dead:{until.isoformat()}", message, covers_until=until
    )


def _described(events: list[WebhookEvent]) -> list[alert_mail.DeadNotice]:
    return [
        alert_mail.DeadNotice(event.processed_at, what, event.last_error)
        for event, what in zip(events, review.describe_events(events), strict=True)
    ]


def send_alerts() -> int:
    """Every alert condition, checked (scheduled every few minutes). Returns mails sent."""
    return check_connections() + check_dead_events()


def send_daily_digest() -> int:
    """Mail the finance reviewers the items flagged since the last digest (or the past day).
    No items, no mail. Once per local day. Returns mails sent."""
    now = timezone.now()
    last = SentAlert.objects.filter(kind=AlertKind.DAILY_DIGEST).order_by("-covers_until").first()
    since = last.covers_until if last and last.covers_until else now - timedelta(days=1)
    flagged = SyncedRecord.objects.filter(
        state=SyncedRecord.State.FLAGGED, flagged_at__gt=since, flagged_at__lte=now
    )
    key = f"digest:{timezone.localdate(now).isoformat()}"
    total = flagged.count()
    if not total:
        # The watermark still moves, so tomorrow's digest starts from here.
        SentAlert.objects.get_or_create(
            kind=AlertKind.DAILY_DIGEST, key=key, defaults={"covers_until": now}
        )
        return 0
    listed = flagged.select_related("route").order_by("route__name", "flagged_at", "pk")
    items = [alert_mail.digest_item(rec) for rec in listed[: alert_mail.LISTED]]
    waiting = SyncedRecord.objects.filter(state=SyncedRecord.State.FLAGGED).count()
    queue = reverse("admin:review_queue")
    message = alert_mail.daily_digest(items, total, waiting, since, queue)
    return _send_once(AlertKind.DAILY_DIGEST, key, message, covers_until=now)


def save_alert_preferences(user, **switches: bool) -> AlertPreferences:
    """Store the user's own switches (AlertKind values → on/off); audited when they change."""
    prefs, _ = AlertPreferences.objects.get_or_create(user=user)
    before = {k: getattr(prefs, k) for k in switches}
    if before == switches:
        return prefs
    for kind, on in switches.items():
        setattr(prefs, kind, bool(on))
    prefs.save()
    audit.record("alerts.preferences_changed", actor=user, obj=prefs, before=before, after=switches)
    return prefs
