"""Column value rules of the Monday.com sandbox: what each column type accepts, how it is stored.

`parse_column_values` takes the `column_values` argument of a mutation (a JSON-encoded string)
and `write_value` checks one value against its column and returns what the board stores: the
value object Monday would return in `column_values { value }` and the display `text`.
Pure functions over plain dicts; the store calls them under its lock.
Reference: ../shared/reference/monday.md "Writing items" (values by column type).
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, time
from typing import Any

from integrations.sandbox.monday_errors import MondayApiError

# Types whose values are computed by Monday.com and can never be written through the API.
READ_ONLY_TYPES = frozenset(
    {
        "mirror",
        "formula",
        "auto_number",
        "creation_log",
        "last_updated",
        "item_id",
        "button",
        "subtasks",
        "board_relation",
        "dependency",
        "progress",
        "time_tracking",
        "vote",
    }
)
# Types with labels kept in the column settings.
LABEL_TYPES = frozenset({"status", "dropdown"})

_NUMBER = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def value_error(column: dict, message: str, **data) -> MondayApiError:
    return MondayApiError(
        "ColumnValueException",
        message,
        {"column_id": column["id"], "column_type": column["type"], **data},
    )


def parse_column_values(raw: Any) -> dict:
    """The `column_values` argument: a JSON string holding an object keyed by column id.

    An object passed directly (the common bug) and a doubly encoded string are both refused.
    # Unconfirmed: the exact code and message Monday.com answers for a non-string argument; the
    # sandbox answers ColumnValueException, the code it uses for malformed values.
    """
    if raw is None:
        return {}
    if not isinstance(raw, str):
        raise MondayApiError(
            "ColumnValueException",
            "column_values must be a JSON-encoded string",
            {"received": type(raw).__name__},
        )
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise MondayApiError(
            "ColumnValueException", "column_values is not valid JSON", {}
        ) from None
    if not isinstance(parsed, dict):
        raise MondayApiError(
            "ColumnValueException",
            "column_values must be a JSON object keyed by column id",
            {"received": type(parsed).__name__},
        )
    return parsed


def parse_json_value(raw: Any) -> Any:
    """The `value` argument of change_column_value: one JSON-encoded value."""
    if not isinstance(raw, str):
        raise MondayApiError(
            "ColumnValueException",
            "value must be a JSON-encoded string",
            {"received": type(raw).__name__},
        )
    try:
        return json.loads(raw)
    except ValueError:
        raise MondayApiError("ColumnValueException", "value is not valid JSON", {}) from None


def labels_of(column: dict) -> dict[int, str]:
    """Status labels {index: label} or dropdown labels {id: name} from the column settings."""
    settings = column.setdefault("settings", {})
    if column["type"] == "status":
        return {int(k): v for k, v in settings.setdefault("labels", {}).items()}
    return {int(o["id"]): o["name"] for o in settings.setdefault("labels", [])}


def _add_label(column: dict, label: str) -> int:
    settings = column["settings"]
    existing = labels_of(column)
    new_id = max(existing, default=-1) + 1
    if column["type"] == "status":
        settings["labels"][str(new_id)] = label
    else:
        settings["labels"].append({"id": new_id, "name": label})
    return new_id


def _find_label(column: dict, label: str, create: bool) -> int:
    for index, name in labels_of(column).items():
        if name == label:
            return index
    if create:
        return _add_label(column, label)
    raise value_error(column, "label does not exist in column", label=label)


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == {}


def write_value(
    column: dict, value: Any, *, create_labels: bool = False, people: dict | None = None
) -> tuple[dict | str | None, str]:
    """(stored value, display text) for one column, or MondayApiError.

    The stored value is what `column_values { value }` returns JSON-encoded; None clears.
    `create_labels` adds a missing status/dropdown label to the column settings (mutating it).
    """
    kind = column["type"]
    if kind in READ_ONLY_TYPES:
        raise value_error(column, f"The {kind} column can't be changed through the API")
    if _is_empty(value):
        return None, ""
    handler = _WRITERS.get(kind)
    if handler is None:
        raise value_error(column, f"The sandbox does not accept values for {kind} columns")
    return handler(column, value, create_labels, people or {})


def _text(column, value, _create, _people):
    if not isinstance(value, str):
        raise value_error(column, "text column expects a string value")
    return value, value


def _long_text(column, value, _create, _people):
    if not isinstance(value, dict) or not isinstance(value.get("text"), str):
        raise value_error(column, 'long_text column expects {"text": "..."}')
    return {"text": value["text"]}, value["text"]


def _numbers(column, value, _create, _people):
    # A JSON number is refused "in practice" per the reference: only a string holding a number.
    if not isinstance(value, str) or not _NUMBER.match(value.strip()):
        raise value_error(column, "numbers column expects a string holding a number")
    if not math.isfinite(float(value)):
        raise value_error(column, "numbers column expects a finite number")
    return value.strip(), value.strip()


def _date(column, value, _create, _people):
    if not isinstance(value, dict) or not isinstance(value.get("date"), str):
        raise value_error(column, 'date column expects {"date": "YYYY-MM-DD"}')
    extra = set(value) - {"date", "time"}
    if extra:
        raise value_error(column, f"date column does not accept {sorted(extra)}")
    if not _DATE.match(value["date"]):
        raise value_error(column, "date must be YYYY-MM-DD")
    try:
        date.fromisoformat(value["date"])
    except ValueError:
        raise value_error(column, "date is not a calendar date") from None
    stored = {"date": value["date"]}
    text = value["date"]
    if value.get("time") is not None:
        t = value["time"]
        if not isinstance(t, str) or not _TIME.match(t):
            raise value_error(column, "time must be HH:MM:SS")
        try:
            parsed = time.fromisoformat(t)
        except ValueError:
            raise value_error(column, "time is not a time of day") from None
        stored["time"] = parsed.strftime("%H:%M:%S")
        text = f"{value['date']} {parsed.strftime('%H:%M')}"
    return stored, text


def _status(column, value, create, _people):
    if not isinstance(value, dict) or (("label" in value) == ("index" in value)):
        raise value_error(column, 'status column expects {"label": "..."} or {"index": n}')
    labels = labels_of(column)
    if "label" in value:
        if not isinstance(value["label"], str):
            raise value_error(column, "status label must be a string")
        index = _find_label(column, value["label"], create)
    else:
        index = value["index"]
        if not isinstance(index, int) or isinstance(index, bool) or index not in labels:
            raise value_error(column, "index does not exist in column", index=index)
    return {"index": index}, labels_of(column)[index]


def _dropdown(column, value, create, _people):
    if not isinstance(value, dict) or (("labels" in value) == ("ids" in value)):
        raise value_error(column, 'dropdown column expects {"labels": [...]} or {"ids": [...]}')
    if "labels" in value:
        names = value["labels"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise value_error(column, "dropdown labels must be a list of strings")
        ids = [_find_label(column, name, create) for name in names]
    else:
        ids = value["ids"]
        known = labels_of(column)
        if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        ):
            raise value_error(column, "dropdown ids must be a list of integers")
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise value_error(column, "dropdown id does not exist in column", ids=unknown)
    names = labels_of(column)
    return {"ids": ids}, ", ".join(names[i] for i in ids)


def _link(column, value, _create, _people):
    if not isinstance(value, dict) or not isinstance(value.get("url"), str):
        raise value_error(column, 'link column expects {"url": "...", "text": "..."}')
    if not value["url"].startswith(("http://", "https://")):
        raise value_error(column, "link url must start with http:// or https://")
    label = value.get("text", value["url"])
    if not isinstance(label, str):
        raise value_error(column, "link text must be a string")
    return {"url": value["url"], "text": label}, f"{label} - {value['url']}"


def _email(column, value, _create, _people):
    if not isinstance(value, dict) or not isinstance(value.get("email"), str):
        raise value_error(column, 'email column expects {"email": "...", "text": "..."}')
    if not _EMAIL.match(value["email"]):
        raise value_error(column, "email is not an email address")
    label = value.get("text", value["email"])
    if not isinstance(label, str):
        raise value_error(column, "email text must be a string")
    return {"email": value["email"], "text": label}, value["email"]


def _checkbox(column, value, _create, _people):
    if not isinstance(value, dict) or value.get("checked") not in ("true", "false"):
        raise value_error(column, 'checkbox column expects {"checked": "true"}')
    if value["checked"] == "false":
        return None, ""
    return {"checked": "true"}, "v"


def _people_value(column, value, _create, people):
    entries = value.get("personsAndTeams") if isinstance(value, dict) else None
    if not isinstance(entries, list):
        raise value_error(column, 'people column expects {"personsAndTeams": [...]}')
    names = []
    for entry in entries:
        if (
            not isinstance(entry, dict)
            or entry.get("kind") not in ("person", "team")
            or not isinstance(entry.get("id"), int)
        ):
            raise value_error(column, 'each person needs {"id": n, "kind": "person"}')
        if entry["kind"] == "person" and entry["id"] not in people:
            raise value_error(column, "person does not exist", id=entry["id"])
        names.append(people.get(entry["id"], f"Team {entry['id']}"))
    return {"personsAndTeams": entries}, ", ".join(names)


_WRITERS = {
    "text": _text,
    "long_text": _long_text,
    "numbers": _numbers,
    "date": _date,
    "status": _status,
    "dropdown": _dropdown,
    "link": _link,
    "email": _email,
    "checkbox": _checkbox,
    "people": _people_value,
}


def simple_to_json(column: dict, value: str | None) -> Any:
    """`change_simple_column_value`: a plain string per type, turned into the JSON form."""
    if value is None or value == "":
        return None
    kind = column["type"]
    if kind == "long_text":
        return {"text": value}
    if kind == "status":
        return {"label": value}
    if kind == "dropdown":
        return {"labels": [part.strip() for part in value.split(",")]}
    if kind == "date":
        day, _, clock = value.partition(" ")
        return {"date": day, "time": clock} if clock else {"date": day}
    if kind in ("link", "email"):
        target, _, label = value.partition(" ")
        key = "url" if kind == "link" else "email"
        return {key: target, "text": label or target}
    if kind == "checkbox":
        return {"checked": value}
    return value


def settings_str(column: dict) -> str:
    """The column settings as Monday.com returns them in `settings_str`."""
    settings = dict(column.get("settings") or {})
    return json.dumps(settings, ensure_ascii=False)


def encode_value(stored: Any) -> str | None:
    """The `value` field: the stored value JSON-encoded, null when empty."""
    return None if stored is None else json.dumps(stored, ensure_ascii=False)
