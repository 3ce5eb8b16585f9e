"""How the Exact Online sandbox writes answers: verbose OData JSON, Atom XML, error bodies.

Reference §3.1/§3.2/§3.6/§3.8: JSON only when `Accept: application/json` is sent, Atom XML
otherwise; collections as {"d": {"results": [...], "__next": ...}}; dates as "/Date(ms)/" where ms
is the Amsterdam wall-clock time read as if it were UTC; errors as
{"error": {"code": "", "message": {"lang": "", "value": ...}}}.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from xml.sax.saxutils import escape, quoteattr

from integrations.sandbox.exact_odata import AMSTERDAM

JSON_TYPE = "application/json; charset=utf-8"
ATOM_TYPE = "application/atom+xml;type=feed;charset=utf-8"
XML_TYPE = "application/xml;charset=utf-8"
_EPOCH = datetime(1970, 1, 1)


def wall_clock_ms(value: date | datetime) -> int:
    """Amsterdam wall-clock time as milliseconds 'since the epoch' (§3.6)."""
    if isinstance(value, datetime):
        local = value.astimezone(AMSTERDAM).replace(tzinfo=None)
    else:
        local = datetime(value.year, value.month, value.day)
    return int(round((local - _EPOCH).total_seconds() * 1000))


def to_wire(value: object) -> object:
    if isinstance(value, date):  # datetime is a date too
        return f"/Date({wall_clock_ms(value)})/"
    return value


def project(row: dict, fields: dict[str, str], select: list[str] | None, uri: str, type_name: str):
    names = select if select is not None else list(fields)
    out = {"__metadata": {"uri": uri, "type": f"Exact.Web.Api.Models.{type_name}"}}
    for name in names:
        out[name] = to_wire(row.get(name))
    return out


def wants_json(environ: dict) -> bool:
    return "application/json" in environ.get("HTTP_ACCEPT", "")


def json_bytes(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def error_body(message: str, as_json: bool) -> tuple[str, bytes]:
    if as_json:
        payload = {"error": {"code": "", "message": {"lang": "", "value": message}}}
        return JSON_TYPE, json_bytes(payload)
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<error xmlns="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
        f'<code></code><message xml:lang="">{escape(message)}</message></error>'
    )
    return XML_TYPE, xml.encode()


def collection_json(rows: list[dict], next_url: str | None) -> bytes:
    d: dict = {"results": rows}
    if next_url:
        d["__next"] = next_url
    return json_bytes({"d": d})


def _xml_value(name: str, value: object, kind: str) -> str:
    if value is None:
        return f'<d:{name} m:type="{kind}" m:null="true" />'
    if isinstance(value, datetime):
        text = value.astimezone(AMSTERDAM).replace(tzinfo=None).isoformat()
    elif isinstance(value, date):
        text = datetime(value.year, value.month, value.day).isoformat()
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    return f'<d:{name} m:type="{kind}">{escape(text)}</d:{name}>'


def atom_feed(
    title: str,
    self_url: str,
    entries: list[tuple[str, dict]],
    fields: dict[str, str],
    select: list[str] | None,
    next_url: str | None,
) -> bytes:
    """A minimal valid Atom feed of m:properties, as WCF writes without a JSON Accept."""
    updated = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    names = select if select is not None else list(fields)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
        'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">',
        f"<id>{escape(self_url)}</id>",
        f'<title type="text">{escape(title)}</title>',
        f"<updated>{updated}</updated>",
        f'<link rel="self" title={quoteattr(title)} href={quoteattr(self_url)} />',
    ]
    for uri, row in entries:
        props = "".join(_xml_value(n, row.get(n), fields[n]) for n in names)
        parts.append(
            f'<entry><id>{escape(uri)}</id><title type="text" /><updated>{updated}</updated>'
            "<author><name /></author>"
            f'<content type="application/xml"><m:properties>{props}</m:properties></content>'
            "</entry>"
        )
    if next_url:
        parts.append(f'<link rel="next" href={quoteattr(next_url)} />')
    parts.append("</feed>")
    return "".join(parts).encode()


def webhook_body(content: dict, sign) -> bytes:
    """Compact JSON, Content first and HashCode last, `/` escaped as `\\/` (§7.4, §7.5)."""
    content_bytes = json.dumps(content, separators=(",", ":")).replace("/", "\\/").encode()
    return b'{"Content":' + content_bytes + b',"HashCode":"' + sign(content_bytes).encode() + b'"}'


# Unconfirmed (§3.6/§7.4): EventCreatedOn seen as an ISO string without offset; the zone is
# assumed to be Amsterdam like every other Exact time.
def event_time(moment: datetime) -> str:
    """EventCreatedOn: Amsterdam local time, ISO without offset, .NET-trimmed fraction."""
    local = moment.astimezone(AMSTERDAM).replace(tzinfo=None)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{local.microsecond:06d}".rstrip("0")
    return f"{text}.{fraction}" if fraction else text
