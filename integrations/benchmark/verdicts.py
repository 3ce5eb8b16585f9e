"""Floors, board tallies and verdict rows shared by every phase (and by other helpers' phases).

A floor is the least the figure can be under the APIs' own limits, computed in the same run from
what was written: Exact's sync feeds answer 1,000 rows a page (its regular endpoints 60), Monday
allows 10,000,000 complexity points a minute and 5,000,000 in one request. A verdict fails when
any write failed, or any document is missing from the boards or is on them twice, whatever the
figure says.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from integrations.benchmark.measure import MONDAY_MINUTE_BUDGET, MONDAY_QUERY_CEILING, per_1000
from integrations.models import Route, SyncedRecord

__all__ = ["per_1000"]
FEED_PAGE = 1000  # rows a page of an Exact sync feed (reference §3.2)


def feed_floor(*row_counts: int) -> int:
    """Calls to read sync feeds of these row counts, a page of 1,000 rows each (at least one
    call each: the read that finds the end)."""
    return sum(max(math.ceil(rows / FEED_PAGE), 1) for rows in row_counts)


def monday_minutes_floor(total_complexity: int, budget: int = MONDAY_MINUTE_BUDGET) -> float:
    """Minutes Monday's budget needs for this many points: items x complexity / budget."""
    return total_complexity / budget


def monday_requests_floor(total_complexity: int, ceiling: int = MONDAY_QUERY_CEILING) -> int:
    """Requests needed if every one carried as much as Monday allows in one request."""
    return max(math.ceil(total_complexity / ceiling), 1) if total_complexity else 0


def board_tally(world, route: Route, keys: Iterable[str], *, failed: int = 0) -> dict:
    """The documents posted against the items on the route's boards, by Exact key.

    failed_writes: writes the phase saw fail (`failed`) or records left failed, whichever is
    more; missing: posted keys with no item; duplicates: items beyond one per key."""
    from integrations.benchmark.world import board_keys

    wanted = {str(k).lower() for k in keys}
    on_board = Counter(k for k in board_keys(world, route) if k in wanted)
    failed_records = SyncedRecord.objects.filter(
        route=route, state=SyncedRecord.State.FAILED
    ).count()
    return {
        "documents": len(wanted),
        "items": sum(on_board.values()),
        "failed_writes": max(failed, failed_records),
        "missing": len(wanted - set(on_board)),
        "duplicates": sum(n - 1 for n in on_board.values()),
    }


def merge_tallies(tallies: Iterable[dict]) -> dict:
    total: dict = {}
    for tally in tallies:
        for key, value in tally.items():
            total[key] = total.get(key, 0) + value
    return total


def whole(tally: dict | None) -> bool:
    """Nothing failed, nothing missing, nothing twice."""
    return not tally or not (tally["failed_writes"] or tally["missing"] or tally["duplicates"])


def row(
    figure: str,
    value,
    *,
    goal: str,
    ok: bool | None,
    floor=None,
    tally: dict | None = None,
    note: str = "",
) -> dict:
    """One line of the table. FAIL when the figure misses its goal or the tally is not whole;
    n/a when the figure has no verdict (ok None) and the tally is whole."""
    if not whole(tally):
        verdict = "FAIL"
    elif ok is None:
        verdict = "n/a"
    else:
        verdict = "PASS" if ok else "FAIL"
    tally = tally or {}
    return {
        "target": figure,
        "value": value,
        "floor": floor,
        "goal": goal,
        "failed_writes": tally.get("failed_writes"),
        "missing": tally.get("missing"),
        "duplicates": tally.get("duplicates"),
        "verdict": verdict,
        "note": note,
    }
