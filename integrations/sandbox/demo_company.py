"""The demo company as a working finance team has it: a board whose labels name almost every code,
and a handful of documents that a reviewer would rightly find in the review queue.

Each review case is flagged for a reason of its own, and each has an obvious fix on the board:
- a new project cost center the board names differently ("Kralingen (P206)"): map it once;
- late invoices on a closed project (P100 ended 90 days ago): the board lumps closed projects
  under "Closed projects";
- old invoices on a blocked revenue account (8090): they belong under "8000 Omzet diensten".
Everything else carries a code the board has a label for, so "Map codes to the board's labels"
maps it and those items arrive clean.
"""

from __future__ import annotations

import copy
import random
from datetime import timedelta

from integrations.sandbox.monday_fixtures import FINANCE_COLUMNS

# The labels Exact's document states become (integrations/exact/specs.py and the route's
# "deleted" label), besides the board's own workflow labels.
STATUS_LABELS = [
    "Open",
    "Paid",
    "Overdue",
    "Credit note",
    "Draft",
    "Processed",
    "Cancelled",
    "Deleted in Exact",
]
NEW_PROJECT = ("P206", "Project Rotterdam 6 (Kralingen)", "Kralingen (P206)")
CLOSED_PROJECTS_LABEL = "Closed projects"
BLOCKED_GL = "8090"
# How many invoices of each case (12 of about 190: 6% of the demo's items flagged).
CASE_COUNTS = {"new_project": 5, "closed_project": 4, "blocked_gl": 3}


def unlabelled_codes(exact) -> set[str]:
    """The codes the demo board deliberately has no label of their own for."""
    codes = {BLOCKED_GL, NEW_PROJECT[0]}
    for division, _name in exact.division_list():
        codes |= {c["Code"] for c in exact.cost_centers(division) if not c["Active"]}
    return codes


def board_columns(exact) -> list[dict]:
    """The finance board: status labels for every Exact state, a GL account label per active
    account ("8000 Omzet diensten"), a cost center label per open cost center ("P101")."""
    skip = unlabelled_codes(exact)
    gl_labels, cc_labels = {}, {}
    for division, _name in exact.division_list():
        for gl in exact.gl_accounts(division):
            if gl["Code"] not in skip:
                gl_labels.setdefault(gl["Code"], f"{gl['Code']} {gl['Description']}")
        for cc in exact.cost_centers(division):
            if cc["Code"] not in skip:
                cc_labels.setdefault(cc["Code"], cc["Code"])
    extra_cc = [NEW_PROJECT[2], CLOSED_PROJECTS_LABEL]
    labels = {
        "gl_account": sorted(gl_labels.values()),
        "cost_center": sorted(cc_labels.values()) + extra_cc,
    }
    columns = copy.deepcopy(FINANCE_COLUMNS)
    for column in columns:
        if column["id"] in labels:
            column["settings"] = {
                "labels": [
                    {"id": n, "name": name} for n, name in enumerate(labels[column["id"]], start=1)
                ]
            }
        elif column["id"] == "status":
            column["settings"] = {"labels": {str(n): v for n, v in enumerate(STATUS_LABELS)}}
    return columns


def add_review_cases(exact, *, seed: int) -> int:
    """Add the documents the review queue should show (before webhooks are on). Returns how many."""
    rng = random.Random(seed + 1)
    today = exact.clock.now().date()
    (ams, _), (rdam, _), (utr, _) = exact.division_list()[:3]
    exact.add_cost_center(rdam, NEW_PROJECT[0], NEW_PROJECT[1])
    closed = next(c["Code"] for c in exact.cost_centers(ams) if not c["Active"])
    cases = [
        (rdam, "8010", NEW_PROJECT[0], CASE_COUNTS["new_project"], 20),
        (ams, "8000", closed, CASE_COUNTS["closed_project"], 100),
        (utr, BLOCKED_GL, "UTR", CASE_COUNTS["blocked_gl"], 300),
    ]
    added = 0
    for division, gl_code, cost_center, count, days_back in cases:
        gl = next(g["ID"] for g in exact.gl_accounts(division) if g["Code"] == gl_code)
        customers = exact.accounts(division, customers=True)
        for n in range(count):
            exact.add_sales_invoice(
                division,
                account=rng.choice(customers)["ID"],
                invoice_date=today - timedelta(days=days_back - 3 * n),
                lines=[
                    {
                        "GLAccount": gl,
                        "CostCenter": cost_center,
                        "Description": "Werkzaamheden",
                        "Quantity": 1,
                        "AmountFC": round(rng.uniform(400, 6000), 2),
                    }
                ],
                status=20,
                description=f"Factuur {cost_center} {n + 1}",
            )
            added += 1
    return added
