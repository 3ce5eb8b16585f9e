"""The real Monday.com schema, built once for the sandbox.

`integrations/monday/schema.graphql` is a copy of monday's published SDL (see schema.SOURCE.txt).
`ColumnValue` is an interface: the concrete type follows the column type (TextValue, ...).
"""

from __future__ import annotations

from pathlib import Path

from graphql import build_schema

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "monday" / "schema.graphql"
SCHEMA = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))


def typename_for(column_type: str) -> str:
    name = "".join(part.capitalize() for part in column_type.split("_")) + "Value"
    return name if SCHEMA.get_type(name) is not None else "UnsupportedValue"


SCHEMA.get_type("ColumnValue").resolve_type = lambda value, _info, _type: value.typename
