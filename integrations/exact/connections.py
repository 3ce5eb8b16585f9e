"""Services for connections: connect Exact Online, keep its tokens alive, test it.

Connecting reads the user and the divisions (in words when it fails, nothing saved); the token
lifecycle (single-flight refresh under a row lock, needs-re-authorization, keep-alive) is in
tokens.py; `for_connection` builds the client with its token source.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

import audit
from integrations.api_calls import count_call
from integrations.errors import (
    IntegrationError,
    RateLimited,
    ReconnectRequired,
    RemoteRejected,
    plain_reason,
)
from integrations.exact.client import ExactClient
from integrations.exact.oauth import TokenSet
from integrations.exact.ratelimit import SharedBudget

# The token lifecycle lives in tokens.py; these are part of the connection services' face.
from integrations.exact.tokens import (  # noqa: F401
    ensure_fresh_token,
    host_of,
    idle_warning,
    keep_alive_exact_connections,
    mark_needs_reauth,
)
from integrations.models import ConnectionStatus, ExactConnection, ExactDivision, WebhookEvent

logger = logging.getLogger(__name__)


def _read_for_connect(what: str, call):
    """Run one read of the connect flow; a failure becomes what failed and what to do, in
    words (Exact's own error text, e.g. an OData sentence, goes to the log only)."""
    try:
        return call()
    except IntegrationError as exc:
        logger.warning(
            "exact.connect.read_failed",
            extra={"what": what, "error": type(exc).__name__, "detail": exc.message},
        )
        if isinstance(exc, RateLimited):
            todo = "Wait a minute, then click “Connect Exact Online” again."
        elif isinstance(exc, RemoteRejected) and exc.detail.get("status") == 403:
            todo = (
                "Check that the app registration has the “Organization administration” scope "
                "and that you tick the divisions on Exact's consent page, then connect again."
            )
        else:
            todo = (
                "Click “Connect Exact Online” again; if it keeps failing, check the app "
                "registration in Exact Online's App Center."
            )
        raise IntegrationError(
            f"Could not read {what} from Exact Online: {plain_reason(exc)}.",
            hint=f"Nothing was saved. {todo}",
            retryable=exc.retryable,
        ) from exc


def connect_exact(
    *, user, base_url: str, region: str, tokens: TokenSet, connection: ExactConnection | None = None
) -> ExactConnection:
    """Store a fresh authorization: reads current/Me and system/Divisions first, then saves
    the tokens, the user, and the divisions (new ones unselected) in one transaction, audited.
    Nothing is saved when a call fails. Re-authorizing an existing connection puts the
    webhook events that waited for it back in the queue. Raises IntegrationError subclasses.
    """
    issued = tokens.access_token

    def token_source(rejected: str | None) -> str:
        if rejected is not None:
            raise ReconnectRequired(
                "Exact Online refused the new access token.", hint="Start the connection again."
            )
        return issued

    client = ExactClient(base_url, token_source=token_source, on_call=_count_exact_call)
    me = _read_for_connect("your Exact Online user", client.me)
    if me.current_division is None:
        raise IntegrationError("Exact Online did not name a current division for this user.")
    divisions = _read_for_connect(
        "the divisions of your Exact Online user",
        lambda: client.list_divisions(me.current_division),
    )
    user_id = str(me.user_id or "")
    other = ExactConnection.objects.filter(base_url=base_url, exact_user_id=user_id)
    if connection is not None:
        other = other.exclude(pk=connection.pk)
    if user_id and other.exists():
        # A second authorization by the same Exact user obsoletes the first chain (§1.6).
        raise IntegrationError(
            f"This Exact Online user is already connected as '{other.first().name}'.",
            hint="Re-authorize that connection instead of adding another one.",
        )
    with transaction.atomic():
        conn = connection or ExactConnection(
            name=me.division_customer_name or me.full_name or me.user_name or "Exact Online"
        )
        if connection is not None:
            conn = ExactConnection.objects.select_for_update().get(pk=connection.pk)
        before = {"status": conn.status} if conn.pk else None
        conn.base_url, conn.region = base_url, region
        conn.exact_user_id, conn.exact_user_name = user_id, me.full_name or me.user_name
        conn.current_division = me.current_division
        conn.status, conn.last_error = ConnectionStatus.CONNECTED, ""
        conn.status_changed_at, conn.connected_by = timezone.now(), user
        conn.access_token, conn.refresh_token = tokens.access_token, tokens.refresh_token
        conn.access_token_issued_at = tokens.issued_at
        conn.access_token_expires_at = tokens.issued_at + timedelta(seconds=tokens.expires_in)
        conn.refreshed_at = tokens.issued_at
        conn.save()
        for info in divisions:
            ExactDivision.objects.update_or_create(
                connection=conn,
                code=info.code,
                defaults={
                    "name": info.description[:200],
                    "currency": info.currency[:3],
                    "division_move_date": info.division_move_date,
                },
            )
        codes = list(conn.divisions.values_list("code", flat=True))
        released = WebhookEvent.objects.filter(
            state=WebhookEvent.State.WAITING, division__in=codes
        ).update(state=WebhookEvent.State.PENDING, next_attempt_at=None)
        audit.record(
            "exact.reauthorized" if before else "exact.connected",
            actor=user,
            obj=conn,
            before=before,
            after={
                "status": conn.status,
                "exact_user": conn.exact_user_name,
                "current_division": conn.current_division,
                "divisions": sorted(d.code for d in divisions),
                "released_events": released,
            },
        )
    return conn


def check_division_moves(conn: ExactConnection) -> list[int]:
    """Read system/Divisions and record each changed DivisionMoveDate (audited).

    A move to another database regenerates every sync Timestamp of the division (reference
    §5.1), so the caller must reset that division's cursors and resynchronise it (polling's
    reset_division; the upsert by Exact key keeps that free of duplicates). Returns the codes
    of selected divisions that moved. New divisions are added unselected.
    """
    divisions = {d.code: d for d in conn.divisions.all()}
    anchor = conn.current_division or next(iter(divisions), None)
    if anchor is None:
        return []
    moved = []
    for info in for_connection(conn).list_divisions(anchor):
        known = divisions.get(info.code)
        if known is None:
            ExactDivision.objects.create(
                connection=conn,
                code=info.code,
                name=info.description[:200],
                currency=info.currency[:3],
                division_move_date=info.division_move_date,
            )
            continue
        if info.division_move_date == known.division_move_date:
            continue
        before = known.division_move_date
        known.division_move_date = info.division_move_date
        known.save(update_fields=["division_move_date"])
        audit.record(
            "exact.division_moved",
            actor="system",
            obj=known,
            division=known.code,
            before={"division_move_date": before and before.isoformat()},
            after={
                "division_move_date": info.division_move_date
                and info.division_move_date.isoformat()
            },
        )
        if known.selected:
            moved.append(known.code)
    return moved


def test_exact_connection(conn: ExactConnection) -> dict:
    """Call current/Me; return user, current division, token expiry and remaining budget."""
    client = for_connection(conn)
    me = client.me()
    conn.refresh_from_db()
    budget = SharedBudget(conn.pk)
    limits = []
    for division in conn.divisions.filter(selected=True).order_by("code"):
        state = budget.state(division.code)
        limits.append(asdict(state) if state else {"division": division.code})
    return {
        "user": me.full_name or me.user_name,
        "user_name": me.user_name,
        "division": me.current_division,
        "division_name": me.division_customer_name,
        "token_expires_at": conn.access_token_expires_at,
        "rate_limits": limits,
    }


def for_connection(conn) -> ExactClient:
    """The one factory: a client on the connection's host, its tokens and its shared budget.

    It lives here, not in client.py, so the client gets its tokens from a source handed in and
    never imports the services that refresh them."""
    return ExactClient(
        host_of(conn),
        token_source=lambda rejected: ensure_fresh_token(conn, rejected=rejected),
        budget=SharedBudget(conn.pk),
        # A 401 even after a refresh: the grant or the division consent is gone (§1.8).
        on_token_rejected=lambda reason: mark_needs_reauth(conn, reason=reason),
        on_call=_count_exact_call,
    )


def _count_exact_call(status: int | str) -> None:
    count_call("exact", status)
