"""The benchmark's rows against the issue's goals, the printed table and the JSON file.

Each phase has a rows function here (result -> table rows, built with verdicts.row): a figure,
its floor from the same run, its goal, the board tally (failed writes, missing, duplicates) and
the verdict, which fails when the tally is not whole whatever the figure says.
"""

from __future__ import annotations

import json
from pathlib import Path

from integrations.benchmark import phase_report
from integrations.benchmark.verdicts import row

ENTITY_WORDS = {
    "sales_invoice": "sales invoices",
    "purchase_order": "purchase orders",
    "sales_order": "sales orders",
}


def compare(backfill: dict, naive: dict) -> dict:
    """API calls of the batched backfill against the naive one, per 1,000 records."""
    ours = backfill["exact_calls_per_1000"] + backfill["monday_requests_per_1000"]
    theirs = naive["api_calls_per_1000"]
    return {
        "api_calls_per_1000": round(ours, 2),
        "naive_api_calls_per_1000": theirs,
        "reduction_x": round(theirs / ours, 1) if ours else None,
        "naive_sample": naive["n"],
        "wall_per_1000_s": round(backfill["wall_s"] * 1000 / backfill["n"], 2),
        "naive_wall_per_1000_s": round(naive["wall_s"] * 1000 / naive["n"], 2),
    }


def polling_rows(result: dict) -> list[dict]:
    rows = []
    for entity, r in result.items():
        goal = round(1.1 * r["exact_floor_per_1000"] + 2, 2)
        rows.append(
            row(
                f"Exact calls per 1,000 {ENTITY_WORDS.get(entity, entity)} by polling "
                f"(N={r['n']:,}, {r['lines']:,} lines)",
                r["exact_calls_per_1000"],
                floor=r["exact_floor_per_1000"],
                goal=f"<= 1.1 x floor + 2 = {goal}",
                ok=r["exact_calls_per_1000"] <= goal,
                tally=r["tally"],
            )
        )
    first = next(iter(result.values()), None)
    if first:
        rows.append(
            row(
                "Largest Monday request / per-query ceiling",
                f"{first['monday_max_request_share_of_ceiling']:.1%}",
                goal="<= 20%",
                ok=first["monday_max_request_share_of_ceiling"] <= 0.20,
            )
        )
    return rows


def changed_orders_rows(r: dict) -> list[dict]:
    return [
        row(
            f"Exact calls per 1,000 changed sales orders (N={r['n']:,})",
            r["exact_calls_per_1000"],
            floor=r["exact_floor_per_1000"],
            goal="<= 60",
            ok=r["exact_calls_per_1000"] <= 60,
            tally=r["tally"],
            note=(
                "floor: header feed + lines feed + every order's lines again from the bulk "
                f"endpoint, {r['line_batches']} key batches as long as the URL allows"
            ),
        )
    ]


def subitems_rows(r: dict) -> list[dict]:
    expected = r["n"] * r["lines_per_invoice"]
    return [
        row(
            f"Monday requests per 1,000 invoices with {r['lines_per_invoice']} lines as "
            f"subitems (N={r['n']:,})",
            r["monday_requests_per_1000"],
            floor=r["monday_floor_per_1000"],
            goal="<= 150",
            ok=r["monday_requests_per_1000"] <= 150 and r["subitems"] == expected,
            tally=r["tally"],
            note="" if r["subitems"] == expected else f"{r['subitems']} of {expected} subitems",
        )
    ]


def naive_rows(r: dict) -> list[dict]:
    c = r.get("comparison")
    if not c:
        return []
    return [
        row(
            "Fewer API calls than naive",
            f"{c['reduction_x']}x",
            goal=">= 50x",
            ok=(c["reduction_x"] or 0) >= 50,
            note=f"naive sampled on {c['naive_sample']} records",
        )
    ]


def budget_rows(r: dict) -> list[dict]:
    share, refused = r["budget_share_full_windows"], r["budget_exhausted_errors"]
    return [
        row(
            "Monday budget used per full minute, 1 process",
            f"{share:.1%}, {refused} refused" if share is not None else f"{refused} refused",
            goal=">= 90%, 0 refused",
            ok=share >= 0.9 and refused == 0 if share is not None else None,
            note="" if share is not None else "the run ended within one budget window",
        )
    ]


def burst_rows(r: dict) -> list[dict]:
    return [
        row(
            f"Exact calls per 1,000 webhook events in a burst (N={r['n']:,})",
            r["exact_calls_per_1000"],
            floor=r["exact_floor_per_1000"],
            goal="<= 50",
            ok=r["exact_calls_per_1000"] <= 50,
            tally=r["tally"],
            note="floor: the burst's rows read through the sync feed",
        ),
        row(
            f"Monday requests per 1,000 webhook events in a burst (N={r['n']:,})",
            r["monday_requests_per_1000"],
            floor=r["monday_floor_per_1000"],
            goal="<= 40",
            ok=r["monday_requests_per_1000"] <= 40 and r["budget_exhausted_errors"] == 0,
            tally=r["tally"],
        ),
    ]


def month_end_rows(r: dict) -> list[dict]:
    ratio = r["ratio_to_floor"]
    return [
        row(
            f"Month-end burst: {r['n_per_division']:,} invoices within a minute in each of "
            f"{r['divisions']} divisions",
            f"{r['elapsed_minutes']} min, {r['refused']} refused",
            floor=f"{r['floor_minutes']} min",
            goal="<= 1.15 x floor, 0 refused",
            ok=ratio is not None and ratio <= 1.15 and r["refused"] == 0,
            tally=r["tally"],
            note=f"{ratio} x floor" if ratio is not None else "",
        )
    ]


def rollover_rows(r: dict) -> list[dict]:
    items = r["tally"]["items"]
    return [
        row(
            f"{r['n']:,} invoices into boards that hold {r['board_limit']:,}",
            f"{items:,} items on {r['boards']} boards {r['items_per_board']}",
            floor=f"{r['boards_needed']} boards",
            goal=f"{r['n']:,} items over {r['boards_needed']} boards, 0 failed writes",
            ok=items == r["n"] and r["boards"] == r["boards_needed"],
            tally=r["tally"],
        )
    ]


def table(results: dict) -> str:
    """The printed report: every row with its floor and tally, then the figures behind them."""
    lines = [
        "| figure | measured | floor | goal | failed writes | missing | duplicates | verdict |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for t in results["targets"]:
        note = f" ({t['note']})" if t["note"] else ""
        cells = [t.get(k) for k in ("floor", "failed_writes", "missing", "duplicates")]
        floor, failed, missing, dupes = ("" if c is None else c for c in cells)
        lines.append(
            f"| {t['target']} | {t['value']}{note} | {floor} | {t['goal']} | {failed} "
            f"| {missing} | {dupes} | {t['verdict']} |"
        )
    lines += ["", *_figures(results)]
    if results.get("scaling"):
        lines += ["", *_scaling(results["scaling"])]
    return "\n".join(lines)


def _figures(results: dict) -> list[str]:
    out = []
    for entity, b in (results.get("polling") or {}).items():
        out.append(
            f"Backfill of {b['n']:,} {ENTITY_WORDS.get(entity, entity)} ({b['lines']:,} lines) "
            f"at {b['latency_ms']} ms a call, limits on: {b['wall_s']} s wall, "
            f"{b['simulated_minutes']} simulated min (Monday floor {b['monday_floor_minutes']} "
            f"min), {b['records_per_s']} records/s, {b['app_cpu_ms_per_record']} ms app "
            f"CPU/record, peak RSS {b['peak_rss_mb']} MB; {b['exact_calls']} Exact calls, "
            f"{b['monday_requests']} Monday requests, {b['monday_refused']} refused."
        )
    n = results.get("naive")
    if n:
        out.append(
            f"Naive (sampled on {n['n']} records, limits on): {n['api_calls_per_1000']:,} API "
            f"calls per 1,000, {n['simulated_minutes']} simulated min, "
            f"{n['app_cpu_ms_per_record']} ms app CPU/record."
        )
    budget = results.get("budget")
    if budget:
        out.append(
            f"Budget (limits on, {budget['n']:,} invoices): {budget['items_per_minute']} "
            f"items/simulated min, full windows {budget['full_window_shares']}; ingest_items in "
            f"schema {budget['ingest_items']['api_version']}: "
            f"{budget['ingest_items']['ingest_items']}."
        )
    burst = results.get("burst")
    if burst:
        out.append(
            f"Burst of {burst['n']:,} events ({burst['lines']:,} lines): {burst['exact_calls']} "
            f"Exact calls, {burst['monday_requests']} Monday requests, "
            f"{burst['simulated_minutes']} simulated min."
        )
    month = results.get("month_end")
    if month:
        out.append(
            f"Month-end: {month['events']:,} events, {month['monday_requests']} Monday requests, "
            f"{month['exact_calls']} Exact calls, Monday errors {month['monday_error_codes']}."
        )
    roll = results.get("rollover")
    if roll:
        out.append(
            f"Rollover: {roll['monday_requests']} Monday requests, {roll['board_full_errors']} "
            f"board-full refusals, {roll['simulated_minutes']} simulated min, {roll['wall_s']} s "
            "wall."
        )
    # The phases phase_report words (lone events, the webhook load, workers, the days).
    limit_phases = {**(results.get("webhooks") or {})}
    limit_phases.update({k: results[k] for k in ("normal_day", "busy_day") if results.get(k)})
    if results.get("budget_workers"):
        limit_phases["workers"] = results["budget_workers"]
    out += phase_report.figures(limit_phases)
    return out


def _scaling(rows: list[dict]) -> list[str]:
    out = [
        "| N | Exact calls/1k | Monday req/1k | largest request | wall s | simulated min "
        "| records/s | app CPU ms/record | peak RSS MB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        out.append(
            f"| {r['n']:,} | {r['exact_calls_per_1000']} | {r['monday_requests_per_1000']} "
            f"| {r['monday_max_request_share_of_ceiling']:.1%} | {r['wall_s']} "
            f"| {r['simulated_minutes']} | {r['records_per_s']} | {r['app_cpu_ms_per_record']} "
            f"| {r['peak_rss_mb']} |"
        )
    return out


def write_json(results: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
