"""Column value encoders: one per Monday column type, producing the JSON Monday expects.

Reference: https://developer.monday.com/api-reference/docs/change-column-values
Pure functions. A value that cannot be written (unknown label, bad number) becomes a
MappingProblem result, never an exception and never a failed item.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
READ_ONLY_TYPES = frozenset(
    {
        "mirror",
        "formula",
        "auto_number",
        "creation_log",
        "last_updated",
        "item_id",
        "subtasks",
        "button",
        "progress",
        "name",
        "group",
    }
)


@dataclass(frozen=True)
class BoardColumn:
    id: str
    title: str
    type: str
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MappingProblem:
    """A value that cannot go into its column as is; the item is still written, flagged."""

    column_id: str
    column_title: str
    value: str
    reason: str  # "unknown_label" | "invalid_value" | "read_only"
    detail: str = ""

    @property
    def message(self) -> str:
        title = self.column_title or self.column_id
        if self.reason == "unknown_label":
            return unknown_label_message(title, self.value)
        if self.reason == "read_only":
            return (
                f"The Monday.com column “{title}” is read-only. "
                "Choose another column for this role on the route."
            )
        detail = f" ({self.detail})" if self.detail else ""
        return f"The Monday.com column “{title}” cannot hold “{self.value}”{detail}."


def unknown_label_message(title: str, label: str) -> str:
    """The sentence a reviewer reads when a column has no such label (also used for refusals)."""
    return (
        f"The Monday.com column “{title}” has no label “{label}”. "
        "Choose one of its labels in the mapping, or allow new labels on the route."
    )


@dataclass(frozen=True)
class EncodedValues:
    values: dict[str, Any]
    problems: tuple[MappingProblem, ...] = ()


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", str(text)).strip().casefold()


def encode_text(value: Any) -> str:
    """A text column is one line: line breaks become spaces (quotes are JSON's business)."""
    if value is None:
        return ""
    return " ".join(str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def encode_long_text(value: Any) -> dict[str, str]:
    return {"text": "" if value is None else str(value)}


def encode_numbers(value: Any) -> str:
    """Numbers go as a plain decimal string: exact, no exponent, negatives kept (credit notes)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        raise ValueError("a yes/no value is not a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        value = repr(value)  # shortest round-trip text, so 0.1 stays 0.1
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError("not a number") from exc
    if not number.is_finite():
        raise ValueError("not a finite number")
    if number.is_zero():
        number = abs(number)  # no "-0" on a board
    return format(number, "f")


def _local_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=AMSTERDAM)
        return aware.astimezone(AMSTERDAM).date()
    return value


def encode_date(value: date | datetime | None) -> dict[str, str]:
    """A calendar date; a datetime counts by its date in Europe/Amsterdam (naive = Amsterdam)."""
    if value is None:
        return {}
    return {"date": _local_date(value).isoformat()}


def encode_datetime(value: datetime | None) -> dict[str, str]:
    """Date with time: Monday wants UTC. Naive datetimes are read as Europe/Amsterdam."""
    if value is None:
        return {}
    aware = value if value.tzinfo else value.replace(tzinfo=AMSTERDAM)
    utc = aware.astimezone(UTC)
    return {"date": utc.date().isoformat(), "time": utc.strftime("%H:%M:%S")}


def _status_labels(settings: dict) -> list[str]:
    labels = settings.get("labels") or {}
    if isinstance(labels, dict):
        return [str(v) for _, v in sorted(labels.items(), key=lambda kv: int(kv[0]))]
    return [str(x.get("label") or x.get("name") or "") for x in labels if isinstance(x, dict)]


def _dropdown_labels(settings: dict) -> list[str]:
    labels = settings.get("labels") or []
    if isinstance(labels, dict):
        return [str(v) for v in labels.values()]
    return [str(x.get("name") or x.get("label") or "") for x in labels if isinstance(x, dict)]


def column_labels(column: BoardColumn) -> list[str]:
    """The labels a status or dropdown column offers (empty for other types)."""
    if column.type == "status":
        return [label for label in _status_labels(column.settings) if label]
    if column.type == "dropdown":
        return [label for label in _dropdown_labels(column.settings) if label]
    return []


def match_label(label: str, known: Iterable[str]) -> str | None:
    """The board's own spelling of `label` (case and accents as Monday compares), or None."""
    return _match(label, known)


def _match(label: str, known: Iterable[str]) -> str | None:
    wanted = _norm(label)
    for candidate in known:
        if _norm(candidate) == wanted:
            return candidate
    return None


def encode_status(
    column: BoardColumn, label: Any, *, create_labels_if_missing: bool = False
) -> dict[str, str] | MappingProblem:
    """{"label": <the board's own spelling>}; an unknown label is a MappingProblem."""
    if label is None or str(label).strip() == "":
        return {}
    text = unicodedata.normalize("NFC", str(label)).strip()
    found = _match(text, _status_labels(column.settings))
    if found is not None:
        return {"label": found}
    if create_labels_if_missing:
        return {"label": text}
    return MappingProblem(column.id, column.title, text, "unknown_label")


def encode_dropdown(
    column: BoardColumn, labels: Any, *, create_labels_if_missing: bool = False
) -> dict[str, list[str]] | MappingProblem:
    if labels is None or labels == "":
        return {}
    wanted = [labels] if isinstance(labels, str) else list(labels)
    known = _dropdown_labels(column.settings)
    out: list[str] = []
    for label in wanted:
        text = unicodedata.normalize("NFC", str(label)).strip()
        found = _match(text, known)
        if found is None and not create_labels_if_missing:
            return MappingProblem(column.id, column.title, text, "unknown_label")
        out.append(found or text)
    return {"labels": out}


def encode_link(value: Any) -> dict[str, str]:
    """(url, text), {"url", "text"} or a url string; only http(s) links are written."""
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        url, text = value.get("url", ""), value.get("text", "")
    elif isinstance(value, tuple | list):
        url, text = value[0], value[1] if len(value) > 1 else ""
    else:
        url, text = value, ""
    url = str(url).strip()
    if not url.lower().startswith(("https://", "http://")):
        raise ValueError("not an http(s) link")
    return {"url": url, "text": str(text or url)}


def encode_email(value: Any, text: str = "") -> dict[str, str]:
    if value is None or value == "":
        return {}
    address = str(value).strip()
    local, _, domain = address.partition("@")
    if not local or "." not in domain or " " in address:
        raise ValueError("not an e-mail address")
    return {"email": address, "text": text or address}


def encode_checkbox(value: Any) -> dict[str, str] | None:
    """Checked is {"checked": "true"}. Unconfirmed: null clears it (the reference is silent)."""
    return {"checked": "true"} if bool(value) else None


def encode_people(value: Any) -> dict[str, list[dict[str, Any]]]:
    """Person ids, or (id, "person"|"team") pairs."""
    if not value:
        return {"personsAndTeams": []}
    entries = []
    for entry in value if isinstance(value, list | tuple) else [value]:
        pid, kind = entry if isinstance(entry, tuple | list) else (entry, "person")
        if kind not in ("person", "team"):
            raise ValueError("people are persons or teams")
        entries.append({"id": int(pid), "kind": kind})
    return {"personsAndTeams": entries}


def _encode_date_column(value: Any) -> dict[str, str]:
    if isinstance(value, datetime):
        return encode_datetime(value)
    if value is None or isinstance(value, date):
        return encode_date(value)
    return encode_date(date.fromisoformat(str(value)))


ENCODERS: dict[str, Callable[[Any], Any]] = {
    "text": encode_text,
    "long_text": encode_long_text,
    "numbers": encode_numbers,
    "date": _encode_date_column,
    "link": encode_link,
    "email": encode_email,
    "checkbox": encode_checkbox,
    "people": encode_people,
}
LABEL_ENCODERS = {"status": encode_status, "dropdown": encode_dropdown}


def encode_value(column: BoardColumn, value: Any, *, create_labels_if_missing: bool = False):
    """The JSON-able value for `column`, or a MappingProblem. A date column writes a `date`
    as a date, and a `datetime` with its time in UTC."""
    if column.type in LABEL_ENCODERS:
        return LABEL_ENCODERS[column.type](
            column, value, create_labels_if_missing=create_labels_if_missing
        )
    if column.type in READ_ONLY_TYPES:
        return MappingProblem(column.id, column.title, str(value), "read_only")
    encoder = ENCODERS.get(column.type, encode_text)
    try:
        return encoder(value)
    except (ValueError, TypeError) as exc:
        return MappingProblem(column.id, column.title, str(value), "invalid_value", str(exc))


def encode_values(
    columns: dict[str, BoardColumn], raw: dict[str, Any], *, create_labels_if_missing: bool = False
) -> EncodedValues:
    """Encode a row keyed by column id; problems are collected, the rest is written."""
    values: dict[str, Any] = {}
    problems: list[MappingProblem] = []
    for column_id, value in raw.items():
        column = columns.get(column_id) or BoardColumn(column_id, column_id, "text")
        encoded = encode_value(column, value, create_labels_if_missing=create_labels_if_missing)
        if isinstance(encoded, MappingProblem):
            problems.append(encoded)
        else:
            values[column_id] = encoded
    return EncodedValues(values, tuple(problems))


def encode_column_values(values: dict[str, Any]) -> str:
    """The `column_values` argument: the object JSON-encoded once, as a string."""
    for column_id, value in values.items():
        if isinstance(value, MappingProblem):
            raise ValueError(f"column {column_id} holds a mapping problem, not a value")
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class ColumnEncoding:
    """The outcome of encoding one value: `value` to write, or `problem` (an admin sentence)."""

    value: Any = None
    problem: str = ""
    mapping_problem: MappingProblem | None = None


def column_from_dict(column: dict[str, Any] | BoardColumn) -> BoardColumn:
    """A cached MondayBoard.columns entry ({"id", "title", "type", "settings"}) as a BoardColumn."""
    if isinstance(column, BoardColumn):
        return column
    return BoardColumn(
        id=str(column.get("id", "")),
        title=str(column.get("title", "")),
        type=str(column.get("type", "text")),
        settings=dict(column.get("settings") or {}),
    )


def encode_for_column(
    column: dict[str, Any] | BoardColumn, value: Any, *, create_labels: bool = False
) -> ColumnEncoding:
    """encode_value for a cached column dict, with the problem as one admin sentence."""
    encoded = encode_value(column_from_dict(column), value, create_labels_if_missing=create_labels)
    if isinstance(encoded, MappingProblem):
        return ColumnEncoding(problem=encoded.message, mapping_problem=encoded)
    return ColumnEncoding(value=encoded)
