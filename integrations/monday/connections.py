"""Services for Monday.com connections: connect (token or OAuth), test, mark for attention."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

import audit
from integrations.errors import IntegrationError, ReconnectRequired
from integrations.models import ConnectionStatus, MondayConnection
from integrations.monday import oauth, queries
from integrations.monday.client import MondayClient, default_api_url, for_connection
from integrations.monday.items import ItemResult, ItemWrite, upsert_items

logger = logging.getLogger(__name__)


def _identity(client: MondayClient) -> dict[str, str]:
    """The `me` query: who the token belongs to, and which account."""
    me = client.execute(queries.ME).get("me") or {}
    account = me.get("account") or {}
    return {
        "user_name": str(me.get("name") or ""),
        "user_email": str(me.get("email") or ""),
        "account_name": str(account.get("name") or ""),
    }


def _note_complexity(conn: MondayConnection, client: MondayClient) -> None:
    complexity = client.last_complexity or {}
    if "after" in complexity:
        conn.complexity_remaining = int(complexity["after"])
        reset = int(complexity.get("reset_in_x_seconds") or 0)
        conn.complexity_reset_at = timezone.now() + timedelta(seconds=reset)


def _connect(
    *, user, name: str, token: str, kind: str, connection: MondayConnection | None
) -> MondayConnection:
    conn = connection or MondayConnection(name=name)
    if name:
        conn.name = name
    # The endpoint is fixed at connect time, so a later change of mode never redirects a token.
    conn.api_url = conn.api_url or default_api_url()
    candidate = MondayConnection(api_token=token, api_url=conn.api_url)
    client = for_connection(candidate)
    identity = _identity(client)  # raises MondayAuthError before anything is saved
    before = {"status": conn.status, "account": conn.account_name} if conn.pk else None
    conn.api_token = token
    conn.auth_kind = kind
    conn.status = ConnectionStatus.CONNECTED
    conn.last_error = ""
    conn.last_checked_at = timezone.now()
    conn.connected_by = user if getattr(user, "pk", None) else None
    for key, value in identity.items():
        setattr(conn, key, value[:200])
    _note_complexity(conn, client)
    with transaction.atomic():
        conn.save()
        audit.record(
            "monday.connection.connected",
            actor=user,
            obj=conn,
            before=before,
            after={"auth_kind": kind, "status": conn.status, **identity},
            message=f"Connected as {identity['user_name']} ({identity['account_name']}).",
        )
    logger.info("monday.connection.connected", extra={"connection_id": conn.pk})
    return conn


def connect_monday_token(
    *, user, name: str, token: str, connection: MondayConnection | None = None
) -> MondayConnection:
    """Validate a personal API token with `me` at once, then save it encrypted.

    Raises MondayAuthError (token refused) or another IntegrationError; nothing is saved then.
    With `connection`, that connection gets the new token (reconnect).
    """
    return _connect(
        user=user,
        name=name,
        token=token.strip(),
        kind=MondayConnection.AuthKind.TOKEN,
        connection=connection,
    )


def connect_monday_oauth(
    *,
    user,
    name: str,
    code: str,
    redirect_uri: str,
    connection: MondayConnection | None = None,
) -> MondayConnection:
    """Exchange the OAuth code, validate the access token with `me`, save the connection."""
    tokens = oauth.exchange_code(code=code, redirect_uri=redirect_uri)
    return _connect(
        user=user,
        name=name,
        token=tokens.access_token,
        kind=MondayConnection.AuthKind.OAUTH,
        connection=connection,
    )


def mark_monday_needs_attention(conn: MondayConnection, *, reason: str) -> None:
    """Mark the connection NEEDS_REAUTH with the reason (audited once). Idempotent."""
    with transaction.atomic():
        locked = MondayConnection.objects.select_for_update().get(pk=conn.pk)
        if locked.status == ConnectionStatus.NEEDS_REAUTH and locked.last_error == reason[:500]:
            return
        before = locked.status
        locked.status = ConnectionStatus.NEEDS_REAUTH
        locked.last_error = reason[:500]
        locked.last_checked_at = timezone.now()
        locked.save(update_fields=["status", "last_error", "last_checked_at", "updated_at"])
        audit.record(
            "monday.connection.needs_attention",
            obj=locked,
            before={"status": before},
            after={"status": locked.status},
            message=reason[:500],
        )
    conn.status, conn.last_error = locked.status, locked.last_error
    logger.warning("monday.connection.needs_attention", extra={"connection_id": conn.pk})


def test_monday_connection(conn: MondayConnection) -> dict:
    """Ask `me` with the stored token; returns {"ok", "user_name", "account_name", "message"}.

    A rejected token marks the connection NEEDS_REAUTH; other errors are reported, not raised.
    """
    client = for_connection(conn)
    try:
        identity = _identity(client)
    except ReconnectRequired as err:
        mark_monday_needs_attention(conn, reason=f"{err.message} Reconnect Monday.com.")
        return {"ok": False, "user_name": "", "account_name": "", "message": conn.last_error}
    except IntegrationError as err:  # shown to the admin, never raised
        conn.last_error = str(err)[:500]
        conn.last_checked_at = timezone.now()
        conn.save(update_fields=["last_error", "last_checked_at", "updated_at"])
        return {"ok": False, "user_name": "", "account_name": "", "message": conn.last_error}
    for key, value in identity.items():
        setattr(conn, key, value[:200])
    conn.status = ConnectionStatus.CONNECTED
    conn.last_error = ""
    conn.last_checked_at = timezone.now()
    _note_complexity(conn, client)
    conn.save()
    message = f"Connected as {identity['user_name']} ({identity['account_name']})."
    return {**identity, "ok": True, "message": message}


test_monday_connection.__test__ = False  # a service, not a pytest test


def upsert_for_connection(
    conn: MondayConnection, writes: list[ItemWrite], *, client: MondayClient | None = None
) -> list[ItemResult]:
    """upsert_items for a connection; a rejected token marks it NEEDS_REAUTH, then re-raises."""
    client = client or for_connection(conn)
    try:
        results = upsert_items(client, writes)
    except ReconnectRequired as err:
        mark_monday_needs_attention(conn, reason=f"{err.message} Reconnect Monday.com.")
        raise
    _note_complexity(conn, client)
    if conn.pk and client.last_complexity:
        conn.save(update_fields=["complexity_remaining", "complexity_reset_at", "updated_at"])
    return results


def refresh_monday_boards(conn: MondayConnection) -> int:
    """boards.refresh_boards for a connection; a rejected token marks it NEEDS_REAUTH."""
    from integrations.monday.boards import refresh_boards

    try:
        return refresh_boards(conn)
    except ReconnectRequired as err:
        mark_monday_needs_attention(conn, reason=f"{err.message} Reconnect Monday.com.")
        raise
