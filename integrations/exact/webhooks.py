"""Exact Online webhook payloads: the HashCode signature and parsing of the Content object."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass

# Reference: exact-online.md §7.5. The signature covers the raw bytes of the Content value
# exactly as sent (Exact escapes "/" as "\/"), so it is cut out of the body, never re-serialised.
_ENVELOPE = re.compile(rb'^\{"Content":(.*),"HashCode":"([0-9A-Fa-f]*)"\}$', re.DOTALL)


class InvalidSignature(Exception):
    """Missing or wrong HashCode. The message never contains the body."""


class MalformedPayload(Exception):
    """Signed correctly, but the Content is not the JSON object Exact sends."""


@dataclass(frozen=True)
class WebhookNotification:
    topic: str
    action: str  # "create" | "update" | "delete" (lower-cased; Exact's case varies)
    division: int | None
    key: str
    client_id: str
    event_created_on: str


# The sandbox's webhook secret is public (ExactSandbox's default, in this repository), so anyone
# can sign with it. It is only ever accepted when INTEGRATIONS_MODE=sandbox was set explicitly.
PUBLIC_SANDBOX_SECRET = "sandbox-webhook-secret"


def accepted_secret(secret: str, *, requested_mode: str, mode: str) -> str:
    """The secret to verify with: empty (every signature refused) when it is the public sandbox
    secret and the sandbox mode was not asked for explicitly (a guessed "auto", or live)."""
    explicit_sandbox = requested_mode == "sandbox" and mode == "sandbox"
    if secret == PUBLIC_SANDBOX_SECRET and not explicit_sandbox:
        return ""
    return secret


def sign(content: bytes, secret: str) -> str:
    """Upper-case hex HMAC-SHA256 of the Content bytes, as Exact computes HashCode."""
    return hmac.new(secret.encode(), content, hashlib.sha256).hexdigest().upper()


def envelope(content: bytes, secret: str) -> bytes:
    """The body Exact would POST for this Content (used by the sandbox and tests)."""
    return b'{"Content":' + content + b',"HashCode":"' + sign(content, secret).encode() + b'"}'


def verify(body: bytes, secret: str) -> bytes:
    """Return the raw Content bytes when HashCode matches; raise InvalidSignature otherwise."""
    match = _ENVELOPE.match(body.strip())
    if not match or not secret:
        raise InvalidSignature("No HashCode envelope in the body.")
    content, given = match.group(1), match.group(2).decode()
    if len(given) != 64 or not hmac.compare_digest(sign(content, secret), given.upper()):
        raise InvalidSignature("HashCode does not match.")
    return content


def _division(value) -> int | None:
    """Exact's Division is an Int32 (digits in a string are tolerated); anything else is refused."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2**31 - 1:
        raise MalformedPayload("Division is not a division number.")
    return value


def parse(content: bytes) -> WebhookNotification:
    """Parse the verified Content object; raise MalformedPayload when it is not usable."""
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload("Content is not valid JSON.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("Topic"), str):
        raise MalformedPayload("Content has no Topic.")
    division = _division(data.get("Division"))
    return WebhookNotification(
        topic=data["Topic"][:80],
        action=str(data.get("Action", "")).lower()[:20],
        division=division,
        key=str(data.get("Key", ""))[:36],
        client_id=str(data.get("ClientId", "")),
        event_created_on=str(data.get("EventCreatedOn", ""))[:40],
    )
