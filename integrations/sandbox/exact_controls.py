"""Test and demo controls of the Exact Online sandbox: add, change and delete data.

`DataControls` is mixed into ExactSandbox. Every change goes through `_mutate`, which holds the
lock, bumps the rowversion counter (via the store) and delivers webhooks afterwards. Line dicts
use Exact's own field names (GLAccount GUID, CostCenter code, AmountFC, Quantity, Description…);
an unknown field, GL account or cost center raises ValueError, as Exact would refuse it.
"""

from __future__ import annotations

from datetime import date

from integrations.sandbox import exact_docs, exact_seed


class DataControls:
    def add_division(self, code: int, name: str, currency: str = "EUR") -> None:
        with self.lock:
            self.store.add_division(code, name, currency)
            if self.current_division is None:
                self.current_division = code

    def add_gl_account(self, division, code, description, *, blocked=False) -> dict:
        kind = 110 if str(code).startswith("8") else 120
        row = {
            "Code": str(code),
            "Description": description,
            "SearchCode": str(code),
            "Type": kind,
            "TypeDescription": "Revenue" if kind == 110 else "Other costs",
            "BalanceSide": "C" if kind == 110 else "D",
            "BalanceType": "W" if str(code)[:1] in "456789" else "B",
            "IsBlocked": blocked,
            "VATCode": None,
            "Costcenter": None,
            "Costunit": None,
        }
        return self._mutate(lambda: self.store.add_row(division, "gl", row))

    def add_cost_center(self, division, code, description, *, end_date: date | None = None):
        row = {
            "Code": str(code),
            "Description": description,
            "EndDate": end_date,
            "Active": end_date is None or end_date > self.clock.now().date(),
        }
        return self._mutate(lambda: self.store.add_row(division, "cc", row))

    def add_account(self, division, code, name, *, supplier=False) -> dict:
        # §3.5 / pitfall 17: account codes are 18 characters, left-padded with spaces.
        row = {
            "Code": str(code).rjust(18),
            "Name": name,
            "SearchCode": str(code),
            "IsSupplier": supplier,
            "IsSales": not supplier,
            "Status": "" if supplier else "C",
            "Blocked": False,
            "StartDate": None,
            "EndDate": None,
            "VATNumber": None,
            "ChamberOfCommerce": None,
            "Email": None,
            "City": "Amsterdam",
            "Country": "NL",
        }
        return self._mutate(lambda: self.store.add_row(division, "acc", row))

    # -- read helpers (copies, for tests and the demo) ---------------------------------------
    def division_list(self) -> list[tuple[int, str]]:
        with self.lock:
            return [(c, d["Description"]) for c, d in self.store.divisions.items()]

    def _table(self, division: int, table: str) -> list[dict]:
        with self.lock:
            return [dict(r) for r in self.store.tables.get((division, table), {}).values()]

    def gl_accounts(self, division: int) -> list[dict]:
        return self._table(division, "gl")

    def cost_centers(self, division: int) -> list[dict]:
        return self._table(division, "cc")

    def accounts(self, division: int, *, customers: bool | None = None) -> list[dict]:
        rows = self._table(division, "acc")
        return rows if customers is None else [r for r in rows if r["IsSales"] == customers]

    def move_division(self, division: int) -> None:
        """Simulate Exact moving the division to another database: all Timestamps regenerate."""
        self._mutate(lambda: self.store.move_division(division))

    def save_together(self, division: int, kind: str, doc_ids: list[str]) -> None:
        """Documents of one kind ("si", "po", "so") saved at the same moment: new Timestamps,
        their sync-feed rows interleaved (see Store.save_together); webhooks as for updates."""
        self._mutate(
            lambda: self.store.save_together(division, kind, [str(d).lower() for d in doc_ids])
        )

    def update_record(self, division: int, table: str, row_id: str, **changes) -> dict:
        """Change a GL account ("gl"), cost center ("cc") or account ("acc")."""
        return self._mutate(lambda: self.store.update_row(division, table, row_id, changes))

    def delete_record(self, division: int, table: str, row_id: str) -> None:
        self._mutate(lambda: self.store.delete_row(division, table, row_id))

    def _add_doc(self, kind, division, account, lines, when, currency, description, header):
        def run():
            head = exact_docs.header_defaults(
                kind,
                self.store,
                division,
                account,
                when,
                currency,
                {**header, "Description": description},
            )
            return self._doc_view(kind, self.store.add_document(division, kind, head, lines))

        return self._mutate(run)

    def _doc_view(self, kind: str, doc: dict) -> dict:
        lines_name = {
            "si": "SalesInvoiceLines",
            "po": "PurchaseOrderLines",
            "so": "SalesOrderLines",
            "pi": "PurchaseInvoiceLines",
        }[kind]
        view = {k: v for k, v in doc["header"].items() if k != "Timestamp"}
        view[lines_name] = [
            {k: v for k, v in ln.items() if k != "Timestamp"} for ln in doc["lines"]
        ]
        return view

    def _update_doc(self, kind, division, doc_id, changes) -> dict:
        allowed = set(exact_docs.KINDS[kind].header) | {"lines"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"Unknown fields: {sorted(unknown)}")
        return self._mutate(
            lambda: self._doc_view(
                kind, self.store.update_document(division, kind, str(doc_id).lower(), dict(changes))
            )
        )

    def _delete_doc(self, kind, division, doc_id) -> None:
        self._mutate(lambda: self.store.delete_document(division, kind, str(doc_id).lower()))

    def add_sales_invoice(
        self,
        division,
        *,
        account,
        lines,
        invoice_date,
        currency="EUR",
        status=20,
        type=8020,
        description="",
        **header,
    ) -> dict:  # noqa: A002
        return self._add_doc(
            "si",
            division,
            account,
            lines,
            invoice_date,
            currency,
            description,
            {"Status": status, "Type": type, **header},
        )

    def update_sales_invoice(self, division, invoice_id, **changes) -> dict:
        return self._update_doc("si", division, invoice_id, changes)

    def delete_sales_invoice(self, division, invoice_id) -> None:
        self._delete_doc("si", division, invoice_id)

    def add_purchase_order(
        self,
        division,
        *,
        account,
        lines,
        order_date,
        currency="EUR",
        status=10,
        description="",
        **header,
    ) -> dict:
        return self._add_doc(
            "po",
            division,
            account,
            lines,
            order_date,
            currency,
            description,
            {"OrderStatus": status, **header},
        )

    def update_purchase_order(self, division, order_id, **changes) -> dict:
        return self._update_doc("po", division, order_id, changes)

    def delete_purchase_order(self, division, order_id) -> None:
        self._delete_doc("po", division, order_id)

    def add_sales_order(
        self,
        division,
        *,
        account,
        lines,
        order_date,
        currency="EUR",
        status=12,
        description="",
        **header,
    ) -> dict:
        return self._add_doc(
            "so",
            division,
            account,
            lines,
            order_date,
            currency,
            description,
            {"Status": status, **header},
        )

    def update_sales_order(self, division, order_id, **changes) -> dict:
        return self._update_doc("so", division, order_id, changes)

    def delete_sales_order(self, division, order_id) -> None:
        self._delete_doc("so", division, order_id)

    def add_purchase_invoice(
        self,
        division,
        *,
        account,
        lines,
        invoice_date,
        currency="EUR",
        status=20,
        type=8033,
        description="",
        **header,
    ) -> dict:  # noqa: A002
        return self._add_doc(
            "pi",
            division,
            account,
            lines,
            invoice_date,
            currency,
            description,
            {"Status": status, "Type": type, **header},
        )

    def update_purchase_invoice(self, division, invoice_id, **changes) -> dict:
        return self._update_doc("pi", division, invoice_id, changes)

    def delete_purchase_invoice(self, division, invoice_id) -> None:
        self._delete_doc("pi", division, invoice_id)

    def bulk_add_sales_invoices(
        self, division, n: int, *, lines_per_invoice=3, seed=0
    ) -> list[str]:
        return self._mutate(
            lambda: exact_seed.bulk_sales_invoices(
                self.store, division, n, lines_per_invoice=lines_per_invoice, seed=seed
            )
        )

    def bulk_add_documents(self, division, kind: str, n: int, *, lines=None, seed=0) -> list[str]:
        """n documents of a kind ("si", "po", "so"): `lines` lines each, or None for a
        realistic spread of 1 to 10 (about 3 on average). Webhooks as for any addition."""
        return self._mutate(
            lambda: exact_seed.bulk_documents(self.store, division, kind, n, lines=lines, seed=seed)
        )

    def seed_company(self, *, invoices_per_division=60, seed=42) -> None:
        exact_seed.seed_company(self, invoices_per_division, seed)  # each add_* delivers events
