"""What the audit trail's filters need to know about integrations (audit/scopes.py): division
names, routes, and which events concern a route or an Exact document."""

from __future__ import annotations

from django.db.models import CharField, Q
from django.db.models.functions import Cast

import audit.scopes
from integrations.models import ExactDivision, Route, SyncedRecord, WebhookEvent
from integrations.sync.wording import document_kind
from mappings.models import ValueMapping

# A search for a document matches at most this many (a number like "2026" matches many).
MAX_RECORDS = 500


def _ids_as_text(queryset):
    """The rows' ids as a subquery of text, to compare with AuditEvent.object_id."""
    return queryset.annotate(id_text=Cast("pk", output_field=CharField())).values("id_text")


def division_names() -> dict[int, str]:
    rows = ExactDivision.objects.exclude(name="").order_by("-selected", "code")
    return {code: name for code, name in reversed(rows.values_list("code", "name"))}


def routes() -> list[tuple[str, str]]:
    return [
        (str(pk), name) for pk, name in Route.objects.order_by("name").values_list("pk", "name")
    ]


def route_events(route_id: str) -> Q:
    if not route_id.isdigit():
        return Q(pk__in=[])
    return (
        Q(object_type=Route._meta.label, object_id=route_id)
        | Q(
            object_type=SyncedRecord._meta.label,
            object_id__in=_ids_as_text(SyncedRecord.objects.filter(route_id=route_id)),
        )
        | Q(
            object_type=ValueMapping._meta.label,
            object_id__in=_ids_as_text(ValueMapping.objects.filter(route_id=route_id)),
        )
    )


def record_events(text: str) -> Q:
    """A document by its Exact number (part of it will do) or its Exact key (a GUID, braces
    allowed): the events of its items and of the change notices Exact sent about it."""
    text = text.strip().strip("{}")
    if not text:
        return Q(pk__in=[])
    records = SyncedRecord.objects.filter(
        Q(exact_key__iexact=text) | Q(exact_number__icontains=text)
    )
    record_ids = [str(pk) for pk in records.values_list("pk", flat=True)[:MAX_RECORDS]]
    keys = set(records.values_list("exact_key", flat=True)[:MAX_RECORDS]) | {text}
    notices = WebhookEvent.objects.filter(Q(exact_key__in=keys) | Q(exact_key__iexact=text))
    return Q(object_type=SyncedRecord._meta.label, object_id__in=record_ids) | Q(
        object_type=WebhookEvent._meta.label, object_id__in=_ids_as_text(notices)
    )


ITEM = SyncedRecord._meta.label


def kinds(object_type: str) -> list[tuple[str, str]]:
    """Items by the kind of document they hold: "Sales invoice item", "Purchase order item"."""
    if object_type != ITEM:
        return []
    entities = Route.objects.filter(records__isnull=False).values_list("entity", flat=True)
    return [(f"{ITEM}:{e}", f"{document_kind(e)} item") for e in sorted(set(entities))]


def kind_events(value: str) -> Q | None:
    if not value.startswith(f"{ITEM}:"):
        return None
    items = SyncedRecord.objects.filter(route__entity=value.split(":", 1)[1])
    return Q(object_type=ITEM, object_id__in=_ids_as_text(items))


audit.scopes.register(
    division_names=division_names,
    routes=routes,
    route_events=route_events,
    record_events=record_events,
    kinds=kinds,
    kind_events=kind_events,
)
