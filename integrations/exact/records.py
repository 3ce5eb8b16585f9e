"""Frozen records at the Exact client boundary: documents, lines, pages, user, divisions,
GL accounts and cost centers. Re-exported by entities.py, where the parse functions live."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

# --- records at the client boundary ------------------------------------------------------


@dataclass(frozen=True)
class ExactLine:
    id: uuid.UUID
    line_number: int
    description: str
    gl_account_id: uuid.UUID | None
    gl_account_code: str
    cost_center: str
    cost_unit: str
    quantity: Decimal
    amount_fc: Decimal
    amount_dc: Decimal


@dataclass(frozen=True)
class ExactDocument:
    entity: str
    division: int
    key: uuid.UUID
    number: str
    document_date: date | None
    currency: str
    amount_fc: Decimal
    amount_dc: Decimal
    account_name: str
    account_code: str
    description: str
    status: int | None
    status_label: str
    doc_type: int | None
    is_credit_note: bool
    is_cancelled: bool
    modified: datetime | None
    timestamp: int | None
    lines: tuple[ExactLine, ...]
    # False when only the changed lines are known (sales-order sync feeds, header-only rows):
    # the caller must not treat missing lines as removed.
    lines_complete: bool = True


@dataclass(frozen=True)
class SyncPage:
    documents: list[ExactDocument]
    # The cursor that is safe to store once these documents are written (never past a row
    # that has not been handed out yet).
    max_timestamp: int
    rows: int


@dataclass(frozen=True)
class DeletedRecord:
    entity_key: uuid.UUID
    entity_type: int
    entity: str | None  # Entity value, or None for types we do not sync
    is_line: bool
    timestamp: int
    deleted_at: datetime | None


@dataclass(frozen=True)
class DeletedPage:
    records: list[DeletedRecord]
    max_timestamp: int
    rows: int

    @property
    def keys(self) -> tuple[uuid.UUID, ...]:
        """Keys of deleted documents (line deletions, e.g. sales-order lines, left out)."""
        return tuple(r.entity_key for r in self.records if not r.is_line)


@dataclass(frozen=True)
class ExactMe:
    user_id: uuid.UUID | None
    user_name: str
    full_name: str
    email: str
    current_division: int | None
    division_customer_name: str
    server_utc_offset: int | None


@dataclass(frozen=True)
class ExactDivisionInfo:
    code: int
    description: str
    hid: str
    currency: str
    country: str
    status: int | None
    blocking_status: int | None
    is_current: bool
    division_move_date: datetime | None


@dataclass(frozen=True)
class ExactGLAccount:
    id: uuid.UUID
    code: str
    description: str
    is_blocked: bool


@dataclass(frozen=True)
class ExactCostCenter:
    id: uuid.UUID
    code: str
    description: str
    end_date: date | None
