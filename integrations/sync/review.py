"""The finance review queue: flagged records, what would clear each one (a mapping to add or to
change), filters and search; and the dead inbox events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import CharField, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from audit import periods
from integrations.models import ExactDivision, MondayBoard, Route, SyncedRecord, WebhookEvent
from integrations.sync.links import exact_record_url, monday_item_url
from integrations.sync.routing import TOPIC_ENTITIES
from integrations.sync.wording import document_kind, format_money, plain_reason
from mappings import values as mapping_values
from mappings.models import ValueMapping
from mappings.resolve import KIND_LABELS
from mappings.services import SNAPSHOT_KEYS

# What the snapshot calls the value that was meant for each mapping column.
SNAPSHOT_VALUE_KEYS = {"gl_account": "gl_value", "cost_center": "cost_center_value"}
REASON_CHOICES = [
    ("missing", "A code has no mapping"),
    ("refused", "Monday.com does not accept the mapped value"),
    ("ready", "Mapped now: a re-sync clears it"),
    ("other", "Something a mapping does not fix"),
]


@dataclass(frozen=True)
class Fix:
    """One mapping the reviewer can set on a row: the code, its value now, what the board takes."""

    kind: str
    code: str
    current: str  # the mapped Monday value, "" when unmapped
    allowed: mapping_values.ColumnValues | None
    problem: str  # "" (fine), "missing" or "refused"

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class ReviewRow:
    record: SyncedRecord
    fixes: tuple[Fix, ...]
    reasons: tuple[str, ...]
    category: str  # one of REASON_CHOICES
    ready: bool  # every reason is a mapping that is now set and accepted: a re-sync clears it
    customer: str
    division_name: str
    amount: str
    exact_url: str
    monday_url: str

    @property
    def document_date(self) -> date | None:
        """The snapshot's ISO date as a date, so the page can write it the way people read it."""
        try:
            return date.fromisoformat(str(self.record.snapshot.get("date") or "")[:10])
        except ValueError:
            return None

    @property
    def needs_mapping(self) -> bool:
        return any(f.problem for f in self.fixes)


@dataclass(frozen=True)
class ReviewFilters:
    route: str = ""
    division: str = ""
    reason: str = ""
    q: str = ""
    document_date: str = ""  # a period name (audit.periods.PERIODS)
    flagged: str = ""  # a period name: when the item joined the queue

    @classmethod
    def from_query(cls, query) -> ReviewFilters:
        names = ("route", "division", "reason", "q", "document_date", "flagged")
        return cls(*(query.get(name, "").strip() for name in names))


def review_rows(filters: ReviewFilters | None = None) -> list[ReviewRow]:
    """Flagged records matching the filters, newest first, each with the fixes that clear it.

    Built in Python for every flagged record (a handful of queries in all): the reason filter
    needs each row's fixes, and a review queue holds hundreds of rows, not millions.
    """
    filters = filters or ReviewFilters()
    records = SyncedRecord.objects.filter(state=SyncedRecord.State.FLAGGED)
    if filters.route.isdigit():
        records = records.filter(route_id=int(filters.route))
    if filters.division.isdigit():
        records = records.filter(division=int(filters.division))
    if filters.q:
        records = records.filter(
            Q(exact_number__icontains=filters.q) | Q(snapshot__account__icontains=filters.q)
        )
    records = _in_periods(records, filters)
    records = list(
        records.select_related("route", "route__exact_connection").order_by("-synced_at", "-pk")
    )
    routes = {r.route_id: r.route for r in records}
    mapped = {
        (route_id, division, kind, code): value
        for route_id, division, kind, code, value in ValueMapping.objects.filter(
            route__in=list(routes)
        ).values_list("route_id", "division__code", "kind", "code", "monday_value")
    }
    used = mapping_values.used_values(routes.values())
    boards = _boards(routes.values())
    allowed = {
        (route.pk, kind): mapping_values.column_values(
            route, kind, board=boards.get((route.monday_connection_id, route.board_id)), used=used
        )
        for route in routes.values()
        for kind in SNAPSHOT_KEYS
    }
    names = division_names(routes.values())
    rows = [_row(rec, mapped, allowed, names) for rec in records]
    return [r for r in rows if not filters.reason or r.category == filters.reason]


def _in_periods(records, filters: ReviewFilters):
    """The document date (an ISO date in the snapshot) and the flagged date, each in a period."""
    dates = periods.date_range(filters.document_date)
    if dates is not None:
        # As text: lookups on a JSON key compare JSON values, not ISO date strings.
        as_text = Cast(KT("snapshot__date"), output_field=CharField())
        records = records.annotate(document_date=as_text).filter(
            document_date__gte=dates[0].isoformat(), document_date__lt=dates[1].isoformat()
        )
    span = periods.datetime_range(filters.flagged)
    if span is not None:
        records = records.filter(flagged_at__gte=span[0], flagged_at__lt=span[1])
    return records


def _boards(routes) -> dict[tuple[int, str], MondayBoard]:
    boards = MondayBoard.objects.filter(
        connection_id__in={r.monday_connection_id for r in routes},
        board_id__in={r.board_id for r in routes},
    )
    return {(b.connection_id, b.board_id): b for b in boards}


def division_names(routes) -> dict[tuple[int, int], str]:
    """{(exact connection id, division code): name} for the routes' connections."""
    return {
        (conn_id, code): name
        for conn_id, code, name in ExactDivision.objects.filter(
            connection_id__in={r.exact_connection_id for r in routes}
        ).values_list("connection_id", "code", "name")
    }


def _row(rec: SyncedRecord, mapped, allowed, names) -> ReviewRow:
    route = rec.route
    snap = rec.snapshot or {}
    written = snap.get("columns") or {}
    fixes = []
    for kind, key in SNAPSHOT_KEYS.items():
        code = snap.get(key)
        if not code or not route.column(kind):
            continue
        current = mapped.get((rec.route_id, rec.division, kind, code), "")
        column_ok = allowed.get((rec.route_id, kind))
        problem = ""
        if not current:
            problem = "missing"
        elif mapping_values.check_value(route, kind, current, allowed=column_ok):
            problem = "refused"
        elif current == snap.get(SNAPSHOT_VALUE_KEYS[kind]) and route.column(kind) not in written:
            problem = "refused"  # mapped, but Monday refused it on the last write
        fixes.append(Fix(kind, code, current, column_ok, problem))
    reasons = tuple(plain_reason(r) for r in rec.review_reasons or [rec.last_error] if r)
    problems = {f.problem for f in fixes} - {""}
    mapping_reasons = bool(fixes) and all(_about_mapping(r, fixes) for r in reasons)
    ready = not problems and mapping_reasons
    if problems:
        category = "missing" if "missing" in problems else "refused"
    else:
        category = "ready" if ready else "other"
    return ReviewRow(
        record=rec,
        fixes=tuple(fixes),
        reasons=reasons,
        category=category,
        ready=ready,
        customer=str(snap.get("account") or ""),
        division_name=names.get((route.exact_connection_id, rec.division), ""),
        amount=format_money(snap.get("amount"), snap.get("currency") or ""),
        exact_url=exact_record_url(route.exact_connection.base_url, rec.division),
        monday_url=monday_item_url(rec.monday_board_id or route.board_id, rec.monday_item_id),
    )


def _about_mapping(reason: str, fixes: list[Fix]) -> bool:
    """Whether a reason was caused by one of the row's mappings (missing, or a refused value)."""
    for fix in fixes:
        if reason.startswith(f"{fix.label} {fix.code}"):
            return True
        if fix.allowed and f"“{fix.allowed.column_title}”" in reason:
            return True
    return False


def ready_records():
    """Flagged records a re-sync would clear now (every reason was a mapping, now set)."""
    return SyncedRecord.objects.filter(pk__in=[r.record.pk for r in review_rows() if r.ready])


def filter_choices() -> dict[str, list[tuple[str, str]]]:
    """Routes and divisions that have flagged records, for the filter bar."""
    flagged = SyncedRecord.objects.filter(state=SyncedRecord.State.FLAGGED)
    routes = list(Route.objects.filter(records__in=flagged).distinct().order_by("name"))
    names = division_names(routes)
    codes = sorted(set(flagged.values_list("division", flat=True)))
    by_code = {code: name for (_, code), name in names.items()}
    return {
        "route": [(str(r.pk), r.name) for r in routes],
        "division": [(str(c), f"{c} {by_code.get(c, '')}".strip()) for c in codes],
        "reason": REASON_CHOICES,
        "period": list(periods.PERIODS.items()),
    }


def dead_events(limit: int = 200) -> list[tuple[WebhookEvent, str]]:
    """The dead events, newest first, each with what it was about in words."""
    events = list(
        WebhookEvent.objects.filter(state=WebhookEvent.State.DEAD).order_by("-received_at")[:limit]
    )
    return list(zip(events, describe_events(events), strict=True))


ACTIONS = {"Create": "created", "Update": "changed", "Delete": "deleted"}


def describe_events(events: list[WebhookEvent]) -> list[str]:
    """Each event in words ("Sales invoice 20260042 changed in division 101 Amsterdam"): the
    kind of document, its number when it was synced before, what happened to it in Exact, and
    the division by name. One place for the review queue and the alert mails."""
    numbers = dict(
        SyncedRecord.objects.filter(exact_key__in={e.exact_key for e in events})
        .exclude(exact_number="")
        .values_list("exact_key", "exact_number")
    )
    divisions = dict(ExactDivision.objects.exclude(name="").values_list("code", "name"))
    described = []
    for event in events:
        entity = TOPIC_ENTITIES.get(event.topic)
        kind = document_kind(entity) if entity else f"{event.topic} record"
        number = numbers.get(event.exact_key, "")
        what = f"{kind} {number}".strip() + f" {ACTIONS.get(event.action, 'sent')}"
        if event.division is not None:
            what += f" in division {event.division} {divisions.get(event.division, '')}".rstrip()
        described.append(what)
    return described
