"""The audit trail. `audit.record(...)` is the one way any app writes an audit event."""

from __future__ import annotations

from typing import Any

from audit import acting, correlation
from audit.redaction import redact


def record(
    action: str,
    *,
    actor: Any = None,
    obj: Any = None,
    object_type: str = "",
    object_id: str = "",
    division: int | None = None,
    before: Any = None,
    after: Any = None,
    message: str = "",
    correlation_id: str = "",
):
    """Append one audit event and return it.

    actor: a User, or a system component name ("webhook", "poll", ...); defaults to "system".
        A component acting for a signed-in person (audit.acting) is recorded as that person.
    obj: the model instance acted on (type, id and repr are taken from it).
    before/after: JSON-serialisable snapshots; secret-named keys are stripped here, always.
    correlation_id: defaults to the id bound for the work in hand (audit.correlation).
    """
    from django.contrib.auth.models import AbstractBaseUser

    from audit.models import AuditEvent

    user = actor if isinstance(actor, AbstractBaseUser) else acting.current()
    actor_name = user.get_username() if user else (str(actor) if actor else "system")
    if obj is not None:
        object_type = object_type or obj._meta.label
        object_id = object_id or str(obj.pk)
    return AuditEvent.objects.create(
        actor_user=user,
        actor=actor_name[:150],
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:80],
        object_repr=(str(obj) if obj is not None else "")[:200],
        division=division,
        before=redact(before),
        after=redact(after),
        message=message,
        correlation_id=correlation_id or correlation.current(),
    )
