"""Boards that never fill up: which board each document's item goes on, and rolling a route over
to a new board (a structure-only duplicate of its board) before the board reaches its limit.

An item stays on the board it was made on: its record remembers the board, and its updates go
there with that board's own column ids. Only new items are counted against a board's limit.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import asdict

from django.db import transaction
from django.db.models import F, Max
from django.db.models.functions import Greatest
from django.utils import timezone

import audit
from integrations.errors import IntegrationError, RemoteRejected, RemoteUnavailable
from integrations.models import MondayBoard, Route, RouteBoard, SyncedRecord
from integrations.monday import boards as monday_boards
from integrations.monday import client as monday_client

logger = logging.getLogger(__name__)


def period_of(route: Route, doc) -> str:
    """ "" when the route keeps one board; else the year ("2027") or quarter ("2027-Q1") of the
    document date (today's when the document has none)."""
    if not route.board_period:
        return ""
    day = getattr(doc, "document_date", None) or timezone.localdate()
    if route.board_period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def board_name(rule: str, *, board: str, number: int, period: str) -> str:
    """The new board's name by the admin's rule; a rule that does not format falls back to
    "{board} ({n})" rather than stopping the sync."""
    year = period[:4] if period else str(timezone.localdate().year)
    try:
        name = rule.format(board=board, n=number, period=period.replace("-", " "), year=year)
    except (KeyError, IndexError, ValueError):
        name = ""
    return (name.strip() or f"{board} ({number})")[:255]


def match_roles(
    old_columns: list[dict], new_columns: list[dict], roles: dict[str, str]
) -> tuple[dict[str, str], list[str]]:
    """Pure: the copy's column for each role, by the same id and type (if Monday kept the ids),
    else by the same title and type. Returns ({role: new column id}, roles left unmatched).
    A role whose column is gone from the old board is left out (it did not work there either)."""
    old_by_id = {c["id"]: c for c in old_columns}
    used: set[str] = set()
    mapped: dict[str, str] = {}
    missing: list[str] = []
    for role, column_id in roles.items():
        old = old_by_id.get(column_id)
        if not column_id or old is None:
            continue
        same_type = [c for c in new_columns if c.get("type") == old.get("type")]
        candidates = [c for c in same_type if c["id"] == column_id] + [
            c for c in same_type if c.get("title") == old.get("title")
        ]
        pick = next((c for c in candidates if c["id"] not in used), None)
        if pick is None:
            missing.append(role)
            continue
        used.add(pick["id"])
        mapped[role] = pick["id"]
    return mapped, missing


def match_group(old_groups: list[dict], new_groups: list[dict], group_id: str) -> str:
    """Pure: the copy's group for `group_id`, by id, else by title ("" = the top group)."""
    if not group_id:
        return ""
    if any(g["id"] == group_id for g in new_groups):
        return group_id
    title = next((g.get("title") for g in old_groups if g["id"] == group_id), None)
    return next((g["id"] for g in new_groups if title and g.get("title") == title), "")


def route_on(route: Route, board_id: str) -> Route:
    """The route as it writes to `board_id`: that board's id, column roles and groups. The
    route's own board (and any board it has no row for) is the route itself."""
    if not board_id or board_id == route.board_id:
        return route
    row = RouteBoard.objects.filter(route=route, board_id=board_id).first()
    view = copy.copy(route)
    view.board_id = board_id
    if row is not None and row.ready and row.columns:
        view.columns, view.group_id = dict(row.columns), row.group_id
        view.division_groups = dict(row.division_groups)
    return view


def boards_for(route: Route, docs) -> list[tuple[Route, list]]:
    """Split a batch by the board each document's item goes on: the board an item already
    lives on, else the route's current board (of the document's period), rolling over to a
    new board before it would hold more than `board_item_limit` items. Raises IntegrationError
    when a new board cannot be made or matched yet (nothing is written then)."""
    unique = list({str(d.key): d for d in docs}.values())
    known = dict(
        SyncedRecord.objects.filter(route=route, exact_key__in=[str(d.key) for d in unique])
        .exclude(monday_board_id="")
        .values_list("exact_key", "monday_board_id")
    )
    by_board: dict[str, list] = {}
    new_by_period: dict[str, list] = {}
    for doc in unique:
        board_id = known.get(str(doc.key))
        if board_id:
            by_board.setdefault(board_id, []).append(doc)
        else:
            new_by_period.setdefault(period_of(route, doc), []).append(doc)
    for period, new_docs in new_by_period.items():
        start = 0
        for board_id, count in _reserve(route, period, len(new_docs)):
            by_board.setdefault(board_id, []).extend(new_docs[start : start + count])
            start += count
    return [(route_on(route, board_id), part) for board_id, part in by_board.items()]


def board_refused(route: Route, refused: dict) -> None:
    """Monday refused these creates ({Exact key: (board id, error)}) because their board is
    full: count each such board full, so the next plan rolls over, and let the refused records
    go to whichever board is current (the refused create made no item). Audited."""
    limit = max(route.board_item_limit, 1)
    keys = list(refused)
    SyncedRecord.objects.filter(route=route, exact_key__in=keys, monday_item_id="").update(
        monday_board_id="", write_attempts=Greatest(F("write_attempts") - 1, 0)
    )
    for board_id in sorted({board for board, _ in refused.values()}):
        row = RouteBoard.objects.filter(route=route, board_id=board_id).first()
        if row is None or row.item_count >= limit:
            continue
        RouteBoard.objects.filter(pk=row.pk).update(item_count=limit)
        audit.record(
            "route.board_full",
            obj=route,
            before={"board_id": board_id, "items": row.item_count},
            after={"board_id": board_id, "items": limit},
            message=(
                f"Monday.com refused new items on board {row.name or board_id}: it is full "
                f"(ml-connector counted {row.item_count} of its items; items added there by "
                "other means count too). New items go to a new board."
            ),
            actor="sync",
        )
        logger.info("sync.board.full", extra={"route_id": route.pk, "board_id": board_id})


def _reserve(route: Route, period: str, count: int) -> list[tuple[str, int]]:
    """Reserve room for `count` new items: [(board id, how many)], rolling over as needed.
    One planner at a time per route (row lock), so two workers never overfill a board or
    make two copies. A failed rollover is committed (its board is not made twice), then raised."""
    out: list[tuple[str, int]] = []
    problem: IntegrationError | None = None
    with transaction.atomic():
        locked = Route.objects.select_for_update().get(pk=route.pk)
        route.board_id, route.columns = locked.board_id, locked.columns
        route.group_id, route.division_groups = locked.group_id, locked.division_groups
        limit = max(route.board_item_limit, 1)
        row, problem = _current(route, period)
        while count > 0 and row is not None:
            room = limit - row.item_count
            if room <= 0:
                row, problem = _roll_over(route, row, period)
                continue
            take = min(room, count)
            RouteBoard.objects.filter(pk=row.pk).update(item_count=F("item_count") + take)
            row.item_count += take
            out.append((row.board_id, take))
            count -= take
    if problem is not None:
        raise problem
    return out


def _own_row(route: Route) -> RouteBoard:
    """The row of the route's current board, made (counting the route's items there) if new."""
    row = RouteBoard.objects.filter(route=route, board_id=route.board_id).first()
    if row is not None:
        return row
    cached = MondayBoard.objects.filter(
        connection=route.monday_connection, board_id=route.board_id
    ).first()
    number = (RouteBoard.objects.filter(route=route).aggregate(n=Max("number"))["n"] or 0) + 1
    return RouteBoard.objects.create(
        route=route,
        board_id=route.board_id,
        name=cached.name if cached else "",
        number=number,
        # The items this route put there. Items added by other means are not counted (reading
        # Monday's items_count would cost a request on the route's first write): a board shared
        # that way needs a lower limit on the route.
        item_count=SyncedRecord.objects.filter(route=route, monday_board_id=route.board_id)
        .exclude(monday_item_id="")
        .count(),
    )


def _current(route: Route, period: str):
    """(the board new items of this period go on, None) or (None, why there is none yet)."""
    own = _own_row(route)
    if not period or own.period == period:
        return own, None
    latest = RouteBoard.objects.filter(route=route, period=period, ready=True).last()
    if latest is not None:
        return latest, None
    if not own.period:  # the route's first board takes the first period that comes along
        own.period = period
        own.save(update_fields=["period"])
        return own, None
    return _roll_over(route, None, period)


def _roll_over(route: Route, full: RouteBoard | None, period: str):
    """Make (or finish matching) the next board of this period and make it the route's board.
    Returns (row, None), or (None, error) when the copy cannot be used yet."""
    client = monday_client.for_connection(route.monday_connection)
    own = _own_row(route)
    pending = RouteBoard.objects.filter(route=route, period=period, ready=False).first()
    try:
        if pending is None:
            first = RouteBoard.objects.filter(route=route).order_by("number").first()
            number = (RouteBoard.objects.filter(route=route).aggregate(n=Max("number"))["n"]) + 1
            name = board_name(
                route.board_name_rule,
                board=first.name or first.board_id,
                number=number,
                period=period,
            )
            info, is_async = monday_boards.duplicate_board(client, route.board_id, name)
            pending = RouteBoard.objects.create(
                route=route,
                board_id=info.id,
                name=info.name or name,
                number=number,
                period=period,
                ready=False,
            )
        else:
            info, is_async = monday_boards.read_board(client, pending.board_id), True
            if info is None:
                raise RemoteUnavailable(f"Monday.com cannot show the new board {pending}.")
        _carry_roles(route, pending, info, still_copying=is_async)
    except IntegrationError as exc:
        return None, exc
    before = {"board_id": own.board_id, "name": own.name, "items": own.item_count}
    own.columns, own.group_id = route.columns, route.group_id
    own.division_groups = route.division_groups
    own.save(update_fields=["columns", "group_id", "division_groups"])
    route.board_id, route.columns = pending.board_id, dict(pending.columns)
    route.group_id, route.division_groups = pending.group_id, dict(pending.division_groups)
    route.save(update_fields=["board_id", "columns", "group_id", "division_groups", "updated_at"])
    audit.record(
        "route.board_rolled_over",
        obj=route,
        before=before,
        after={"board_id": pending.board_id, "name": pending.name, "period": period},
        message=(
            (
                f"Board {full.name or full.board_id} holds {full.item_count} of its "
                f"{route.board_item_limit} items"
                if full is not None
                else f"Documents of {period} need a board of their own"
            )
            + f"; new items now go to the new board {pending.name}. Items already on "
            "earlier boards stay there and are still updated there."
        ),
        actor="sync",
    )
    logger.info(
        "sync.board.rolled_over",
        extra={"route_id": route.pk, "board_id": pending.board_id, "period": period},
    )
    return pending, None


def _carry_roles(route: Route, row: RouteBoard, info, *, still_copying: bool) -> None:
    """Match the route's column roles and groups on the copy; raises when a role has no column
    there (retryable while Monday is still copying the board)."""
    old = MondayBoard.objects.filter(
        connection=route.monday_connection, board_id=route.board_id
    ).first()
    old_columns, old_groups = (old.columns, old.groups) if old else ([], [])
    new_columns = [asdict(c) for c in info.columns]
    new_groups = [asdict(g) for g in info.groups]
    columns, missing = match_roles(old_columns, new_columns, route.columns)
    if missing:
        titles = ", ".join(sorted(missing))
        if still_copying:
            raise RemoteUnavailable(
                f"Monday.com is still copying the new board {row.name}; retrying shortly."
            )
        raise RemoteRejected(
            f"The new board {row.name} has no column for: {titles}.",
            hint="Add those columns to the new board in Monday.com (same title and type), "
            "then retry the failed events.",
        )
    monday_boards.cache_board(route.monday_connection, info)
    row.columns = columns
    row.group_id = match_group(old_groups, new_groups, route.group_id)
    row.division_groups = {
        div: match_group(old_groups, new_groups, gid)
        for div, gid in (route.division_groups or {}).items()
    }
    row.ready = True
    row.save(update_fields=["columns", "group_id", "division_groups", "ready"])
