"""Demo and benchmark data for the Exact Online sandbox.

`seed_company` builds the real-world shape ml-connector serves: one company with three regional
offices (divisions Amsterdam, Rotterdam, Utrecht), a GL chart, cost centers per office and per
project, customers and suppliers, and invoices and orders with lines, including credit notes,
drafts, an ended cost center, a blocked GL account, and documents dated 31 March and 31 December.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from integrations.sandbox import exact_docs

DIVISIONS = [(3101001, "Amsterdam"), (3101002, "Rotterdam"), (3101003, "Utrecht")]
GL_CHART = [
    ("8000", "Omzet diensten", False),
    ("8010", "Omzet projecten", False),
    ("8020", "Omzet materialen", False),
    ("8090", "Omzet oud (geblokkeerd)", True),
    ("4000", "Personeelskosten", False),
    ("4100", "Huisvestingskosten", False),
    ("4500", "Inkoop materialen", False),
    ("7000", "Kostprijs van de omzet", False),
]
CUSTOMERS = [
    "Bakkerij De Zon BV",
    "Gemeente Haarlem",
    "Van Dijk Bouw BV",
    "O'Brien Consultancy",
    "Stichting Groen",
    "Jansen & Zn",
    "Hotel De Brug",
    "Zorggroep Oost",
]
SUPPLIERS = [
    "Bouwmaat Groothandel",
    "Technische Unie",
    "Kantoorpartner BV",
    "Elektro Noord",
    "Transport Snel",
]


def seed_company(sandbox, invoices_per_division: int, seed: int) -> None:
    rng = random.Random(seed)
    today = sandbox.clock.now().date()
    for index, (code, city) in enumerate(DIVISIONS):
        if code in sandbox.store.divisions:
            continue
        sandbox.add_division(code, f"Bouwgroep {city}")
        gl = {c: sandbox.add_gl_account(code, c, d, blocked=b)["ID"] for c, d, b in GL_CHART}
        office = f"{city[:3].upper()}"
        sandbox.add_cost_center(code, office, f"Kantoor {city}")
        projects = [f"P{index + 1}{n:02d}" for n in range(1, 6)]
        for n, project in enumerate(projects):
            sandbox.add_cost_center(code, project, f"Project {city} {n + 1}")
        sandbox.add_cost_center(
            code,
            f"P{index + 1}00",
            f"Project {city} (afgesloten)",
            end_date=today - timedelta(days=90),
        )
        customers = [
            sandbox.add_account(code, 1000 + i, name)["ID"] for i, name in enumerate(CUSTOMERS)
        ]
        suppliers = [
            sandbox.add_account(code, 2000 + i, name, supplier=True)["ID"]
            for i, name in enumerate(SUPPLIERS)
        ]
        centers = [office, *projects]
        revenue = [gl["8000"], gl["8010"], gl["8020"]]
        for n in range(invoices_per_division):
            credit = n % 10 == 9
            sandbox.add_sales_invoice(
                code,
                account=rng.choice(customers),
                invoice_date=_date(rng, today, n),
                lines=_lines(rng, revenue, centers, with_gl=True),
                status=rng.choice([10, 20, 20, 50, 50]),
                type=8021 if credit else 8020,
                description=("Creditnota" if credit else "Factuur") + f" {city} {n + 1}",
            )
        for n in range(max(1, invoices_per_division // 3)):
            sandbox.add_purchase_order(
                code,
                account=rng.choice(suppliers),
                order_date=_date(rng, today, n),
                lines=_lines(rng, None, centers, with_gl=False),
                status=40 if n % 7 == 6 else rng.choice([10, 20, 30]),
                description=f"Inkooporder {city} {n + 1}",
            )
            sandbox.add_sales_order(
                code,
                account=rng.choice(customers),
                order_date=_date(rng, today, n),
                lines=_lines(rng, None, centers, with_gl=False),
                status=45 if n % 7 == 6 else rng.choice([12, 20, 21]),
                description=f"Verkooporder {city} {n + 1}",
            )
        for n in range(max(1, invoices_per_division // 4)):
            sandbox.add_purchase_invoice(
                code,
                account=rng.choice(suppliers),
                invoice_date=_date(rng, today, n),
                lines=_lines(rng, None, centers, with_gl=False, amount_field="Amount"),
                description=f"Inkoopfactuur {city} {n + 1}",
            )


def _date(rng: random.Random, today: date, n: int) -> date:
    """Mostly the past year; every 20th document on 31 March or 31 December (DST, year end)."""
    if n % 20 == 0:
        return date(today.year - 1, 3, 31)
    if n % 20 == 1:
        return date(today.year - 1, 12, 31)
    return today - timedelta(days=rng.randint(0, 365))


def _lines(rng, revenue, centers, *, with_gl: bool, amount_field: str = "AmountFC") -> list:
    lines = []
    for i in range(rng.randint(1, 4)):
        quantity = float(rng.randint(1, 20))
        price = rng.choice([12.5, 49.95, 75.0, 99.99, 120.0, 1250.0])
        line = {
            "Description": f"Regel {i + 1}",
            "Quantity": quantity,
            "NetPrice": price,
            amount_field: round(quantity * price, 2),
            "CostCenter": rng.choice(centers),
        }
        if with_gl:
            line["GLAccount"] = rng.choice(revenue)
        lines.append(line)
    return lines


# How many lines a document has in the benchmark's realistic spread: 1 to 10, 3.07 on average
# (most documents short, a few long).
LINE_COUNT_WEIGHTS = (30, 22, 16, 10, 7, 5, 4, 3, 2, 1)
HEADER_EXTRA = {
    "si": lambda k: {"Status": 20, "Type": 8020},
    "po": lambda k: {"OrderStatus": 10},
    "so": lambda k: {"Status": 12},
}


def spread_line_count(rng: random.Random) -> int:
    return rng.choices(range(1, len(LINE_COUNT_WEIGHTS) + 1), weights=LINE_COUNT_WEIGHTS)[0]


def bulk_documents(
    store, division: int, kind: str, n: int, *, lines: int | None, seed: int
) -> list[str]:
    """n documents of a kind ("si", "po" or "so") straight into the store, for benchmarks:
    `lines` lines each, or None for the realistic spread (LINE_COUNT_WEIGHTS)."""
    if kind == "si":
        return bulk_sales_invoices(store, division, n, lines_per_invoice=lines, seed=seed)
    rng = random.Random(seed)
    supplier = kind == "po"
    account = _bulk_account(store, division, supplier=supplier)
    centers = _bulk_centers(store, division)
    today = store.now().date()
    currency = store.division(division)["Currency"]
    spec = exact_docs.KINDS[kind]
    ids = []
    for k in range(n):
        count = lines or spread_line_count(rng)
        doc_lines = [
            {
                "Description": f"Regel {i + 1}",
                "Quantity": 1.0,
                "AmountFC": float(rng.randint(100, 500000)) / 100,
                "CostCenter": rng.choice(centers),
            }
            for i in range(count)
        ]
        extra = {**HEADER_EXTRA[kind](k), "Description": f"Bulk {k + 1}"}
        head = exact_docs.header_defaults(
            kind, store, division, account, today - timedelta(days=k % 365), currency, extra
        )
        ids.append(store.add_document(division, kind, head, doc_lines)["header"][spec.key])
    return ids


def _bulk_account(store, division: int, *, supplier: bool) -> str:
    rows = store.tables.get((division, "acc"), {}).values()
    found = [r["ID"] for r in rows if r["IsSupplier"] == supplier]
    if found:
        return found[0]
    code = "9100" if supplier else "9000"
    return store.add_row(
        division,
        "acc",
        {
            "Code": code.rjust(18),
            "Name": "Bulk leverancier BV" if supplier else "Bulk klant BV",
            "SearchCode": code,
            "IsSupplier": supplier,
            "IsSales": not supplier,
            "Status": "" if supplier else "C",
            "Blocked": False,
        },
    )["ID"]


def _bulk_centers(store, division: int) -> list[str]:
    centers = [r["Code"] for r in store.tables.get((division, "cc"), {}).values()]
    if not centers:
        centers = [store.add_row(division, "cc", {"Code": "BULK", "Description": "Bulk"})["Code"]]
    return centers


def bulk_sales_invoices(
    store, division: int, n: int, *, lines_per_invoice: int | None, seed: int
) -> list[str]:
    """n sales invoices straight into the store (no per-record locking), for benchmarks:
    `lines_per_invoice` lines each, or None for the realistic spread."""
    rng = random.Random(seed)
    accounts = [
        r["ID"] for r in store.tables.get((division, "acc"), {}).values() if not r["IsSupplier"]
    ]
    if not accounts:
        accounts = [
            store.add_row(
                division,
                "acc",
                {
                    "Code": "9000".rjust(18),
                    "Name": "Bulk klant BV",
                    "SearchCode": "9000",
                    "IsSupplier": False,
                    "IsSales": True,
                    "Status": "C",
                    "Blocked": False,
                },
            )["ID"]
        ]
    gls = [
        r["ID"]
        for r in store.tables.get((division, "gl"), {}).values()
        if r["Code"].startswith("8") and not r["IsBlocked"]
    ]
    if not gls:
        gls = [
            store.add_row(
                division, "gl", {"Code": "8000", "Description": "Omzet", "IsBlocked": False}
            )["ID"]
        ]
    centers = _bulk_centers(store, division)
    today = store.now().date()
    currency = store.division(division)["Currency"]
    ids = []
    for k in range(n):
        lines = [
            {
                "Description": f"Regel {i + 1}",
                "Quantity": 1.0,
                "AmountFC": float(rng.randint(100, 500000)) / 100,
                "GLAccount": rng.choice(gls),
                "CostCenter": rng.choice(centers),
            }
            for i in range(lines_per_invoice or spread_line_count(rng))
        ]
        head = exact_docs.header_defaults(
            "si",
            store,
            division,
            rng.choice(accounts),
            today - timedelta(days=k % 365),
            currency,
            {"Status": 20, "Type": 8020, "Description": f"Bulk {k + 1}"},
        )
        doc = store.add_document(division, "si", head, lines)
        ids.append(doc["header"]["InvoiceID"])
    return ids
