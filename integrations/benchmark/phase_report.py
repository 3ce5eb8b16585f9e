"""Verdicts and figures of the webhook, workers and day phases (report.py adds them to its own).

A verdict fails on any failed write, missing document or lost event, whatever the figure."""

from __future__ import annotations

# The goals for the day phases: (name, p95 seconds, share of Exact's daily calls).
DAYS = {
    "busy_day": ("a busy day", 60.0, 0.80),
    "normal_day": ("a normal day", 2.0, 0.40),
}


def _row(name: str, value, goal: str, ok: bool | None, floor: str = "", note: str = "") -> dict:
    verdict = "n/a" if ok is None else ("PASS" if ok else "FAIL")
    # report.table shows the note beside the value: the floor goes there too.
    note = "; ".join(part for part in (f"floor {floor}" if floor else "", note) if part)
    return {
        "target": name,
        "value": value,
        "goal": goal,
        "floor": floor,
        "verdict": verdict,
        "note": note,
    }


def targets(results: dict) -> list[dict]:
    rows = []
    to_item = results.get("webhook_to_item")
    if to_item:
        whole = to_item["measured"] == to_item["posted"] and not to_item["errors"]
        rows.append(
            _row(
                "a lone webhook event -> item, p95",
                f"{to_item['p95_s']} s over {to_item['measured']}/{to_item['posted']} events",
                "<= 2 s",
                whole and to_item["p95_s"] is not None and to_item["p95_s"] <= 2,
                note="" if whole else "some events never reached the board",
            )
        )
    ingest = results.get("webhook_ingest")
    if ingest:
        ok = (
            ingest["p99_ms"] is not None
            and ingest["p99_ms"] <= 50
            and ingest["errors"] == 0
            and ingest["lost"] == 0
            and ingest["doubled"] == 0
            and ingest["undrained"] == 0
            and ingest["accepted"] == ingest["distinct_items"]
        )
        rows.append(
            _row(
                f"webhook p99 at {ingest['rate_per_s']:g}/s with the qcluster draining beside it",
                f"{ingest['p99_ms']} ms at {ingest['achieved_rate_per_s']}/s; {ingest['lost']} "
                f"lost, {ingest['errors']} errors, {ingest['accepted']} accepted = "
                f"{ingest['inbox_events']} in the inbox, {ingest['distinct_items']} items",
                "<= 50 ms, 0 lost",
                ok,
            )
        )
    workers = results.get("workers")
    if workers:
        share = workers["budget_share_full_windows"]
        whole = workers["items_on_boards"] == workers["items_wanted"]
        rows.append(
            _row(
                f"Monday budget used per full minute, {workers['workers']} qcluster workers "
                "on one token",
                f"{share:.1%}, {workers['budget_exhausted_errors']} refused"
                if share is not None
                else f"{workers['budget_exhausted_errors']} refused",
                ">= 90%, 0 COMPLEXITY_BUDGET_EXHAUSTED",
                None
                if share is None
                else share >= 0.9 and workers["budget_exhausted_errors"] == 0 and whole,
                floor="100% (the budget)",
                note="" if share is not None else "the run ended within two budget windows",
            )
        )
    for key, (name, p95_goal, share_goal) in DAYS.items():
        day = results.get(key)
        if day:
            rows.append(_day_row(name, day, p95_goal, share_goal))
    return rows


def _day_row(name: str, day: dict, p95_goal: float, share_goal: float) -> dict:
    whole = (
        day["missing"] == 0
        and day["failed_records"] == 0
        and day["webhook_post_errors"] == 0
        and set(day["event_states"]) <= {"done"}
    )
    p95, share = day["p95_s"], day["exact_daily_share"]
    ok = whole and p95 is not None and p95 <= p95_goal and share <= share_goal
    floor = day["exact_floor_calls"]
    return _row(
        f"{name}: {day['documents']:,} documents over {day['hours']:g} "
        f"hour{'' if day['hours'] == 1 else 's'}",
        f"p95 {p95 if p95 is not None else 'not reached (documents missing)'} s, "
        f"{share:.1%} of Exact's daily calls ({day['exact_calls_answered']:,}); "
        f"{day['missing']} missing, {day['failed_records']} failed writes",
        f"p95 <= {p95_goal:g} s, <= {share_goal:.0%} of the daily calls",
        ok,
        floor=f"{floor:,} calls ({floor / 5000:.1%})",
        note="" if whole else f"events {day['event_states']}",
    )


def figures(results: dict) -> list[str]:
    out = []
    ingest, to_item = results.get("webhook_ingest"), results.get("webhook_to_item")
    if ingest:
        out.append(
            f"Webhooks (limits on): {ingest['sent']} sent at {ingest['achieved_rate_per_s']}/s "
            f"with {ingest['q_workers']} qcluster workers draining, p50/p95/p99 "
            f"{ingest['p50_ms']}/{ingest['p95_ms']}/{ingest['p99_ms']} ms, {ingest['errors']} "
            f"errors (load average {ingest.get('load_average')}); gunicorn's CPU "
            f"{ingest.get('server_cpu_ms_per_webhook')} ms a webhook; drained "
            f"{ingest['drain_s']} s after the load; states {ingest['event_states']}."
        )
    if to_item:
        out.append(
            f"Lone webhook events ({to_item['measured']}, {to_item['gap_s']:g} s apart): p50 "
            f"{to_item['p50_s']} s, p95 {to_item['p95_s']} s, max {to_item['max_s']} s "
            f"(Q_POLL {to_item['q_poll_s']})."
        )
    workers = results.get("workers")
    if workers:
        out.append(
            f"Workers: {workers['workers']} qcluster workers x {workers['invoices_per_route']} "
            f"invoices on one token, {workers['items_on_boards']}/{workers['items_wanted']} items "
            f"in {workers['wall_s']} s; budget share per window {workers['window_shares']}; "
            f"{workers['monday_requests']} requests, errors {workers['monday_error_codes']}."
        )
    for key, (name, _, _) in DAYS.items():
        day = results.get(key)
        if day:
            out.append(
                f"{name.capitalize()} (simulated, {day['real_s']} s real): {day['documents']:,} "
                f"documents, p50 {day['p50_s']} s, p95 {day['p95_s']} s, max {day['max_s']} s; "
                f"Exact {day['exact_calls_answered']:,} calls ({day['exact_refused_429']} "
                f"refused), Monday {day['monday_requests']:,} requests "
                f"(errors {day['monday_error_codes']}); {day['poll_runs']} polls; events "
                f"{day['event_states']}; job errors {day['job_error_samples']}."
            )
    return out
