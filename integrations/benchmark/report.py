"""The benchmark's verdicts against the issue's targets, the printed table and the JSON file."""

from __future__ import annotations

import json
from pathlib import Path

from integrations.benchmark import phase_report


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


def _target(name: str, value, target: str, ok: bool | None, note: str = "") -> dict:
    verdict = "n/a" if ok is None else ("PASS" if ok else "FAIL")
    return {"target": name, "value": value, "goal": target, "verdict": verdict, "note": note}


def targets(results: dict) -> list[dict]:
    b, c = results["backfill"], results.get("comparison")
    rows = [
        _target(
            "Exact calls per 1,000 invoices",
            b["exact_calls_per_1000"],
            "<= 5",
            b["exact_calls_per_1000"] <= 5,
        ),
        _target(
            "Monday requests per 1,000 items",
            b["monday_requests_per_1000"],
            "<= 50",
            b["monday_requests_per_1000"] <= 50,
        ),
        _target(
            "Largest request / per-query ceiling",
            f"{b['monday_max_request_share_of_ceiling']:.1%}",
            "<= 20%",
            b["monday_max_request_share_of_ceiling"] <= 0.20,
        ),
    ]
    if c:
        rows.append(
            _target(
                "Fewer API calls than naive",
                f"{c['reduction_x']}x",
                ">= 50x",
                (c["reduction_x"] or 0) >= 50,
                f"naive sampled on {c['naive_sample']} records",
            )
        )
    budget = results.get("budget")
    if budget:
        share = budget["budget_share_full_windows"]
        refused = budget["budget_exhausted_errors"]
        rows.append(
            _target(
                "Monday budget used (limits on)",
                f"{share:.1%}, {refused} refused" if share is not None else f"{refused} refused",
                ">= 90%, 0 refused",
                share >= 0.9 and refused == 0 if share is not None else None,
                "" if share is not None else "the run ended within one budget window",
            )
        )
    rows += phase_report.targets(results)  # webhooks, workers, the days
    return rows


def table(results: dict) -> str:
    """The printed report: verdicts, the figures behind them, and growth with N."""
    lines = ["| target | measured | goal | verdict |", "| --- | --- | --- | --- |"]
    for t in results["targets"]:
        note = f" ({t['note']})" if t["note"] else ""
        lines.append(f"| {t['target']} | {t['value']}{note} | {t['goal']} | {t['verdict']} |")
    lines += ["", *_figures(results)]
    if results.get("scaling"):
        lines += ["", *_scaling(results["scaling"])]
    return "\n".join(lines)


def _figures(results: dict) -> list[str]:
    b, n = results["backfill"], results.get("naive")
    out = [
        f"Backfill of {b['n']:,} invoices x 3 lines at {b['latency_ms']} ms a call "
        f"(Monday's budget off): {b['wall_s']} s wall, {b['records_per_s']} records/s, "
        f"{b['cpu_ms_per_record']} ms CPU/record ({b['app_cpu_ms_per_record']} ms in the app "
        f"thread), peak RSS {b['peak_rss_mb']} MB; {b['exact_calls']} Exact calls, "
        f"{b['monday_requests']} Monday requests, largest {b['monday_max_request_complexity']:,} "
        f"points; at this pace it would need {b['budget_demand_x']}x Monday's minute budget.",
    ]
    if n:
        out.append(
            f"Naive (sampled on {n['n']} records): {n['api_calls_per_1000']:,} API calls per "
            f"1,000, {n['records_per_s']} records/s, {n['app_cpu_ms_per_record']} ms app "
            "CPU/record."
        )
    budget = results.get("budget")
    if budget:
        out.append(
            f"Budget (limits on, clock x{budget['speed']:g}, {budget['n']:,} invoices): "
            f"{budget['items_per_minute']} items/min, full windows "
            f"{budget['full_window_shares']}, overall {budget['budget_share_overall']}; "
            f"ingest_items in schema {budget['ingest_items']['api_version']}: "
            f"{budget['ingest_items']['ingest_items']}."
        )
    out += phase_report.figures(results)
    return out


def _scaling(rows: list[dict]) -> list[str]:
    out = [
        "| N | Exact calls/1k | Monday req/1k | largest request | wall s | records/s "
        "| CPU ms/record | app CPU ms/record | peak RSS MB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        out.append(
            f"| {r['n']:,} | {r['exact_calls_per_1000']} | {r['monday_requests_per_1000']} "
            f"| {r['monday_max_request_share_of_ceiling']:.1%} | {r['wall_s']} "
            f"| {r['records_per_s']} | {r['cpu_ms_per_record']} | {r['app_cpu_ms_per_record']} "
            f"| {r['peak_rss_mb']} |"
        )
    return out


def write_json(results: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
