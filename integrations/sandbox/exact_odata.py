"""OData v2 query options as Exact Online parses them: $filter, $select, $orderby, $top.

`parse_filter` turns a `$filter` string into a predicate over sandbox rows, strictly: typed
literals (guid'…', datetime'…', 'text' with '' escaping, 12 / 12L, 1.5, true/false, null),
eq ne gt ge lt le, and or not, parentheses, and the functions trim, startswith, substringof.
A property the entity does not have, a literal of the wrong type or a syntax error raises
`ODataError(400, …)` worded like WCF Data Services, which Exact runs on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from integrations.sandbox.exact_schema import BOOL, DBL, DT, GUID, INT, INT64, STR

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
NUMERIC = {INT, INT64, DBL}
CLR = {
    GUID: "System.Guid",
    INT: "System.Int32",
    INT64: "System.Int64",
    STR: "System.String",
    DBL: "System.Double",
    BOOL: "System.Boolean",
    DT: "System.DateTime",
    None: "null",
}


class ODataError(Exception):
    def __init__(self, status: int, message: str, *, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<guid>guid'(?P<g>[^']*)')
    | (?P<datetime>datetime'(?P<dt>[^']*)')
    | (?P<string>'(?P<s>(?:[^']|'')*)')
    | (?P<number>-?\d+(?:\.\d+)?[LlMmDdFf]?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class Tok:
    kind: str
    value: object
    pos: int


def _tokenize(text: str) -> list[Tok]:
    toks, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ODataError(400, f"Syntax error at position {pos}.")
        start = m.start(m.lastgroup)
        kind = m.lastgroup
        if kind == "guid":
            if not _GUID.match(m.group("g")):
                raise ODataError(
                    400,
                    f"Unrecognized 'Edm.Guid' literal '{m.group(0).strip()}' "
                    f"at '{start}' in '{text}'.",
                )
            toks.append(Tok("lit", (GUID, m.group("g").lower()), start))
        elif kind == "datetime":
            toks.append(Tok("lit", (DT, _parse_datetime(m.group("dt"), text, start)), start))
        elif kind == "string":
            toks.append(Tok("lit", (STR, m.group("s").replace("''", "'")), start))
        elif kind == "number":
            toks.append(Tok("lit", _parse_number(m.group("number")), start))
        elif kind == "name":
            word = m.group("name")
            if word in ("true", "false"):
                toks.append(Tok("lit", (BOOL, word == "true"), start))
            elif word == "null":
                toks.append(Tok("lit", (None, None), start))
            else:
                toks.append(Tok("name", word, start))
        else:
            toks.append(Tok(m.group("punct"), m.group("punct"), start))
        pos = m.end()
    return toks


def _parse_datetime(raw: str, text: str, pos: int) -> datetime:
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            continue
    raise ODataError(
        400, f"Unrecognized 'Edm.DateTime' literal 'datetime'{raw}'' at '{pos}' in '{text}'."
    )


def _parse_number(raw: str) -> tuple[str, object]:
    suffix = raw[-1].upper() if raw[-1].isalpha() else ""
    body = raw[:-1] if suffix else raw
    if suffix == "L":
        if "." in body:
            raise ODataError(400, f"Unrecognized 'Edm.Int64' literal '{raw}'.")
        return INT64, int(body)
    if suffix or "." in body:
        return DBL, float(body)
    value = int(body)
    return (INT if -(2**31) <= value < 2**31 else INT64), value


def comparable(value: object) -> object:
    """Stored values → what filters compare: moments as Amsterdam wall-clock (§3.5/§3.6)."""
    if isinstance(value, datetime):
        return value.astimezone(AMSTERDAM).replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return value


class _Parser:
    def __init__(self, text: str, fields: dict[str, str], type_name: str) -> None:
        self.text, self.fields, self.type_name = text, fields, type_name
        self.toks = _tokenize(text)
        self.i = 0
        self.properties: set[str] = set()

    def peek(self, offset: int = 0) -> Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def word(self, *words: str) -> bool:
        t = self.peek()
        return t is not None and t.kind == "name" and t.value in words

    def take(self) -> Tok:
        t = self.peek()
        if t is None:
            raise ODataError(400, f"Expression expected at position {len(self.text)}.")
        self.i += 1
        return t

    def expect(self, kind: str) -> None:
        t = self.take()
        if t.kind != kind:
            raise ODataError(400, f"'{kind}' expected at position {t.pos}.")

    def parse(self):
        node = self.or_expr()
        if self.peek() is not None:
            raise ODataError(400, f"Syntax error at position {self.peek().pos}.")
        if node[0] != BOOL:
            raise ODataError(400, "Expression of type 'System.Boolean' expected at position 0.")
        return node[1]

    def or_expr(self):
        left = self.and_expr()
        while self.word("or"):
            self.take()
            left = self._bool(left, self.and_expr(), any)
        return left

    def and_expr(self):
        left = self.unary()
        while self.word("and"):
            self.take()
            left = self._bool(left, self.unary(), all)
        return left

    def _bool(self, a, b, combine):
        if a[0] != BOOL or b[0] != BOOL:
            raise ODataError(400, "Operator requires operands of type 'System.Boolean'.")
        fa, fb = a[1], b[1]
        return BOOL, lambda row: combine((fa(row), fb(row)))

    def unary(self):
        if self.word("not"):
            self.take()
            kind, f = self.unary()
            if kind != BOOL:
                raise ODataError(400, "Operator 'not' requires an operand of type Boolean.")
            return BOOL, lambda row: not f(row)
        left = self.operand()
        if self.peek() is not None and self.word(*COMPARISONS):
            op_tok = self.take()
            right = self.operand()
            return BOOL, self._compare(op_tok, left, right)
        return left

    def operand(self):
        t = self.take()
        if t.kind == "(":
            node = self.or_expr()
            self.expect(")")
            return node
        if t.kind == "lit":
            kind, value = t.value
            return kind, (lambda row, v=value: v)
        if t.kind == "name":
            nxt = self.peek()
            if nxt is not None and nxt.kind == "(":
                return self.function(t)
            if t.value not in self.fields:
                raise ODataError(
                    400,
                    f"No property '{t.value}' exists in type "
                    f"'Exact.Web.Api.Models.{self.type_name}' at position {t.pos}.",
                )
            self.properties.add(t.value)
            name = t.value
            return self.fields[name], lambda row: comparable(row.get(name))
        raise ODataError(400, f"Expression expected at position {t.pos}.")

    def function(self, name_tok: Tok):
        self.expect("(")
        args = [self.or_expr()]
        while self.peek() is not None and self.peek().kind == ",":
            self.take()
            args.append(self.or_expr())
        self.expect(")")
        fn, kinds = name_tok.value, [a[0] for a in args]
        fs = [a[1] for a in args]
        if fn == "trim" and kinds == [STR]:
            return STR, lambda row: (fs[0](row) or "").strip()
        if fn == "startswith" and kinds == [STR, STR]:
            return BOOL, lambda row: (fs[0](row) or "").startswith(fs[1](row) or "")
        if fn == "substringof" and kinds == [STR, STR]:
            return BOOL, lambda row: (fs[0](row) or "") in (fs[1](row) or "")
        raise ODataError(400, f"Unknown function '{fn}' at position {name_tok.pos}.")

    def _compare(self, op_tok: Tok, left, right) -> Callable[[dict], bool]:
        (lk, lf), (rk, rf), op = left, right, op_tok.value
        compatible = lk == rk or None in (lk, rk) or (lk in NUMERIC and rk in NUMERIC)
        if not compatible or (None in (lk, rk) and op not in ("eq", "ne")):
            raise ODataError(
                400,
                f"Operator '{op}' incompatible with operand types "
                f"'{CLR[lk]}' and '{CLR[rk]}' at position {op_tok.pos}.",
            )

        def compare(row: dict) -> bool:
            a, b = lf(row), rf(row)
            if op == "eq":
                return a == b
            if op == "ne":
                return a != b
            if a is None or b is None:
                return False
            return {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}[op]

        return compare


@dataclass(frozen=True)
class Filter:
    predicate: Callable[[dict], bool]
    properties: frozenset[str]
    lower_timestamp: int | None  # from a top-level `Timestamp gt/ge N`, for sync paging


def parse_filter(text: str, fields: dict[str, str], type_name: str) -> Filter:
    parser = _Parser(text, fields, type_name)
    predicate = parser.parse()
    return Filter(predicate, frozenset(parser.properties), _timestamp_bound(parser.toks))


def _timestamp_bound(toks: list[Tok]) -> int | None:
    """The bound of `Timestamp gt N` when the filter is just that (optionally `and`-ed)."""
    if any(t.kind == "name" and t.value in ("or", "not") for t in toks):
        return None
    for i in range(len(toks) - 2):
        a, op, b = toks[i], toks[i + 1], toks[i + 2]
        if a.value == "Timestamp" and op.value in ("gt", "ge") and b.kind == "lit":
            value = b.value[1]
            if isinstance(value, int):
                return value if op.value == "gt" else value - 1
    return None


# Unconfirmed (§3.3): an unknown $select name "fails the call"; the sandbox answers 400 in
# WCF's words. Names are case-sensitive (§2.2: `HID` is not `Hid`).
def parse_select(text: str | None, fields: dict[str, str], type_name: str) -> list[str] | None:
    if text is None or text.strip() in ("", "*"):
        return None
    names, pos = [], 0
    for part in text.split(","):
        name = part.strip()
        if name not in fields:
            at = pos + len(part) - len(part.lstrip())
            raise ODataError(
                400,
                f"No property '{name}' exists in type 'Exact.Web.Api.Models.{type_name}' "
                f"at position {at}.",
            )
        names.append(name)
        pos += len(part) + 1
    return names


def parse_orderby(text: str | None, fields: dict[str, str], type_name: str):
    """'A desc, B' → [("A", True), ("B", False)] (True = descending)."""
    if not text:
        return []
    out = []
    for part in text.split(","):
        bits = part.split()
        if not bits or len(bits) > 2 or (len(bits) == 2 and bits[1] not in ("asc", "desc")):
            raise ODataError(400, f"Syntax error in $orderby '{text}'.")
        if bits[0] not in fields:
            raise ODataError(
                400, f"No property '{bits[0]}' exists in type 'Exact.Web.Api.Models.{type_name}'."
            )
        out.append((bits[0], len(bits) == 2 and bits[1] == "desc"))
    return out


def parse_top(text: str | None) -> int | None:
    if text is None:
        return None
    if not text.isdigit():
        raise ODataError(400, f"Invalid value '{text}' for $top query option found.")
    return int(text)


def literal(value: object, kind: str) -> str:
    """A value as an OData literal, for $skiptoken values."""
    if value is None:
        return "null"
    if kind == GUID:
        return f"guid'{value}'"
    if kind == STR:
        return "'" + str(value).replace("'", "''") + "'"
    if kind == INT64:
        return f"{value}L"
    if kind == DT:
        return "datetime'" + comparable(value).strftime("%Y-%m-%dT%H:%M:%S.%f") + "'"
    if kind == BOOL:
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def parse_skiptoken(text: str) -> list[object]:
    """Comma-separated literals back to comparable values."""
    values = []
    for tok in _tokenize(text):
        if tok.kind == ",":
            continue
        if tok.kind != "lit":
            raise ODataError(400, "Invalid $skiptoken.")
        values.append(tok.value[1])
    return values
