"""OData v2 query text for Exact: typed literals built safely and filter composition. Pure."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import date, datetime

from integrations.exact.dates import filter_datetime

# Property paths as Exact names them (`InvoiceID`, `SalesInvoiceLines/AmountFC`). Anything else
# is refused, so a field name can never smuggle in an operator.
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(/[A-Za-z][A-Za-z0-9_]*)*$")
_OPERATORS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})


class Literal(str):
    """Text that is already a valid OData literal (only this module makes them)."""


def guid(value: uuid.UUID | str) -> Literal:
    """`guid'…'`; raises ValueError unless the value is a real GUID (so no quote can get in)."""
    return Literal(f"guid'{uuid.UUID(str(value))}'")


def string(value: str) -> Literal:
    """`'…'` with embedded quotes doubled (standard OData; # Unconfirmed: on Exact)."""
    text = str(value)
    if "\x00" in text:
        raise ValueError("NUL is not allowed in an OData string")
    return Literal("'" + text.replace("'", "''") + "'")


def int64(value: int) -> Literal:
    """`12345L`: Exact's own sync demo filters Timestamp with the L suffix."""
    return Literal(f"{_integer(value)}L")


def int32(value: int) -> Literal:
    return Literal(str(_integer(value)))


def boolean(value: bool) -> Literal:
    if not isinstance(value, bool):
        raise ValueError("not a boolean")
    return Literal("true" if value else "false")


def datetime_(value: datetime | date) -> Literal:
    """`datetime'2026-11-01T00:00:00'` in Amsterdam wall-clock time, no offset (Exact's form)."""
    return Literal(f"datetime'{filter_datetime(value)}'")


def _integer(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not an integer")
    return value


def field(name: str) -> str:
    if not _FIELD.match(name):
        raise ValueError(f"not an OData property name: {name!r}")
    return name


def compare(name: str, op: str, literal: Literal) -> str:
    """`Name op literal`; the literal must come from this module's builders."""
    if op not in _OPERATORS:
        raise ValueError(f"unknown operator {op!r}")
    if not isinstance(literal, Literal):
        raise TypeError("build literals with integrations.exact.odata (guid, string, ...)")
    return f"{field(name)} {op} {literal}"


def eq(name: str, literal: Literal) -> str:
    return compare(name, "eq", literal)


def gt(name: str, literal: Literal) -> str:
    return compare(name, "gt", literal)


def ge(name: str, literal: Literal) -> str:
    return compare(name, "ge", literal)


def and_(*clauses: str) -> str:
    return _join(" and ", clauses)


def or_(*clauses: str) -> str:
    return _join(" or ", clauses)


def _join(sep: str, clauses: Iterable[str]) -> str:
    parts = [c for c in clauses if c]
    if not parts:
        raise ValueError("no clauses to combine")
    if len(parts) == 1:
        return parts[0]
    return sep.join(f"({c})" for c in parts)


def select(names: Iterable[str]) -> str:
    return ",".join(field(n) for n in names)


def any_guid(name: str, keys: Iterable[uuid.UUID | str]) -> str:
    """`(Name eq guid'a') or (Name eq guid'b')`; batch the keys so that the encoded URL stays
    under Exact's 6,000 characters (feeds.keys_in_batches, ExactClient.fits_url_limit)."""
    return or_(*(eq(name, guid(k)) for k in keys))
