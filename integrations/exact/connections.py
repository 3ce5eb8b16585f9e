"""Services for connections: connect Exact Online, keep its tokens alive, test it.

Exact rotates the refresh token on every refresh and refuses a refresh within 570 s of the last
one (reference §1.5-§1.6), so refreshing is single-flight across every process: a row lock on
the connection, a re-read of the stored tokens after the lock, and the new pair saved in the same
transaction as the refresh call.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

import audit
from integrations.errors import (
    AccessRefused,
    IntegrationError,
    RateLimited,
    ReconnectRequired,
    RemoteRejected,
    RemoteUnavailable,
    plain_reason,
)
from integrations.exact import oauth
from integrations.exact.client import ExactClient, base_url_for
from integrations.exact.oauth import RefreshTooEarly, TokenSet
from integrations.exact.ratelimit import SharedBudget
from integrations.models import ConnectionStatus, ExactConnection, ExactDivision, WebhookEvent

logger = logging.getLogger(__name__)

# Exact refuses a refresh until 570 s after the previous token was issued (TooEarlyToRefreshTokens).
EARLIEST_REFRESH = timedelta(seconds=570)
# A refresh token dies after 30 idle days; keep-alive refreshes after 20, the admin warns at 25.
KEEP_ALIVE_AFTER = timedelta(days=20)
IDLE_WARNING_AFTER = timedelta(days=25)
ACCESS_REFUSED_HINT = (
    "The token itself is fine, so re-authorizing is not the cure. In Exact Online, check that "
    "this division is ticked in the app's consent and that the app has the scopes for this data "
    "(App Center)."
)


def _base_url(conn: ExactConnection) -> str:
    return conn.base_url or base_url_for(conn.region)


def _token_age(conn: ExactConnection, now) -> timedelta | None:
    if conn.access_token_issued_at is None:
        return None
    return now - conn.access_token_issued_at


def _copy_tokens(target: ExactConnection, source: ExactConnection) -> None:
    for name in (
        "access_token",
        "refresh_token",
        "access_token_issued_at",
        "access_token_expires_at",
        "refreshed_at",
        "status",
        "last_error",
    ):
        setattr(target, name, getattr(source, name))


def ensure_fresh_token(
    conn: ExactConnection, *, force: bool = False, rejected: str | None = None
) -> str:
    """A valid access token for `conn`, refreshing it when due.

    A refresh happens only inside [issued + 570 s, expiry] or after expiry; `force` also
    refuses to fall back on a still-valid token when the token endpoint is down. `rejected` is
    the access token Exact just answered 401 to: then our clock is not trusted (§1.8), and
    unless another worker stored a newer token meanwhile, one refresh is made whatever the
    token's local age. Single-flight: under select_for_update the stored tokens are re-read,
    and if another worker already refreshed its token is used with no call. The new access and
    refresh tokens are saved in the same transaction, before the token is used.
    Raises ReconnectRequired (connection marked NEEDS_REAUTH, audited) when Exact rejects the
    refresh token; AccessRefused when a 401 came with a token Exact still calls valid (a
    "too early" refresh: the connection stays connected); RemoteUnavailable when the token
    endpoint is down and the current token has expired or was refused.
    """
    age = _token_age(conn, timezone.now())
    young = age is not None and age < EARLIEST_REFRESH
    if rejected is None and conn.status == ConnectionStatus.CONNECTED and young:
        return conn.access_token
    with transaction.atomic():
        locked = ExactConnection.objects.select_for_update().get(pk=conn.pk)
        try:
            return _token_under_lock(locked, force=force, rejected=rejected)
        except ReconnectRequired as exc:
            refused = exc  # NEEDS_REAUTH and its audit event must commit: raise after the block
        finally:
            _copy_tokens(conn, locked)
    raise refused


def _token_under_lock(locked: ExactConnection, *, force: bool, rejected: str | None) -> str:
    """The refresh decision, with the row lock held and the stored tokens freshly read."""
    _check_connected(locked)
    if rejected is not None and locked.access_token != rejected:
        # Another worker rotated the token since this request was sent: use its token.
        return locked.access_token
    now = timezone.now()
    age = _token_age(locked, now)
    if rejected is None and age is not None and age < EARLIEST_REFRESH:
        # Another worker refreshed a moment ago (or Exact would refuse): use its token.
        return locked.access_token
    # After a 401 the token is refreshed whatever its local age. Reference §1.8 says to refresh
    # only at >= 570 s and else re-read the store; issue 11 overrides it: our clock may not be
    # Exact's, and Exact's answer ("too early" or not) tells the two causes of a 401 apart.
    return _refresh_under_lock(locked, force=force, rejected=rejected, now=now)


def _refresh_under_lock(locked: ExactConnection, *, force: bool, rejected: str | None, now) -> str:
    """One call to the token endpoint; Exact's answer decides (§1.7)."""
    extra = {"connection_id": locked.pk}
    try:
        tokens = oauth.refresh(_base_url(locked), refresh_token=locked.refresh_token)
    except RefreshTooEarly as exc:
        if rejected is not None:
            logger.warning("exact.token.refused_while_valid", extra=extra)
            raise AccessRefused(
                "Exact Online refused a call with HTTP 401 although the access token is still "
                "valid.",
                hint=ACCESS_REFUSED_HINT,
                status=401,
            ) from exc
        logger.warning("exact.token.refresh_too_early", extra=extra)
        return locked.access_token
    except ReconnectRequired as exc:
        _mark_needs_reauth(locked, reason=exc.message)
        raise
    except RemoteUnavailable:
        expires = locked.access_token_expires_at
        if expires and now < expires and not force and rejected is None:
            logger.warning("exact.token.refresh_postponed", extra=extra)
            return locked.access_token
        raise
    _store_tokens(locked, tokens)
    audit.record(
        "exact.token_refreshed",
        actor="system",
        obj=locked,
        after={"expires_at": locked.access_token_expires_at.isoformat()},
    )
    logger.info("exact.token.refreshed", extra=extra)
    return locked.access_token


def _check_connected(locked: ExactConnection) -> None:
    if locked.status == ConnectionStatus.NEEDS_REAUTH:
        raise ReconnectRequired(
            f"The Exact Online connection '{locked.name}' needs re-authorization.",
            hint=oauth.REAUTHORIZE_HINT,
        )
    if not locked.refresh_token:
        raise ReconnectRequired(
            f"The Exact Online connection '{locked.name}' is not connected.",
            hint="Connect it from the admin first.",
        )


def _store_tokens(conn: ExactConnection, tokens: TokenSet) -> None:
    conn.access_token = tokens.access_token
    conn.refresh_token = tokens.refresh_token
    conn.access_token_issued_at = tokens.issued_at
    conn.access_token_expires_at = tokens.issued_at + timedelta(seconds=tokens.expires_in)
    conn.refreshed_at = tokens.issued_at
    conn.save(
        update_fields=[
            "access_token",
            "refresh_token",
            "access_token_issued_at",
            "access_token_expires_at",
            "refreshed_at",
            "updated_at",
        ]
    )


def _mark_needs_reauth(conn: ExactConnection, *, reason: str) -> None:
    before = conn.status
    conn.status = ConnectionStatus.NEEDS_REAUTH
    conn.last_error = reason[:500]
    conn.status_changed_at = timezone.now()
    conn.save(update_fields=["status", "last_error", "status_changed_at", "updated_at"])
    audit.record(
        "exact.needs_reauth",
        actor="system",
        obj=conn,
        before={"status": before},
        after={"status": conn.status},
        message=reason[:500],
    )
    logger.warning("exact.connection.needs_reauth", extra={"connection_id": conn.pk})


def mark_needs_reauth(conn: ExactConnection, *, reason: str) -> None:
    """Put the connection in "needs re-authorization" (audited). Idempotent."""
    with transaction.atomic():
        locked = ExactConnection.objects.select_for_update().get(pk=conn.pk)
        if locked.status != ConnectionStatus.NEEDS_REAUTH:
            _mark_needs_reauth(locked, reason=reason)
        _copy_tokens(conn, locked)


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

    client = ExactClient(base_url, token_source=token_source)
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


def keep_alive_exact_connections() -> int:
    """Refresh every connected connection idle for more than 20 days (scheduled daily), so the
    refresh token never reaches Exact's 30-day idle expiry. Returns how many were refreshed."""
    cutoff = timezone.now() - KEEP_ALIVE_AFTER
    refreshed = 0
    for conn in ExactConnection.objects.filter(
        status=ConnectionStatus.CONNECTED, refreshed_at__lt=cutoff
    ):
        try:
            ensure_fresh_token(conn, force=True)
        except IntegrationError as exc:
            logger.warning(
                "exact.keep_alive.failed",
                extra={"connection_id": conn.pk, "error": type(exc).__name__},
            )
            continue
        conn.refresh_from_db(fields=["refreshed_at"])
        if conn.refreshed_at and conn.refreshed_at >= cutoff:
            refreshed += 1
    return refreshed


def idle_warning(conn: ExactConnection) -> str:
    """An admin warning when the refresh token is close to its 30-day idle expiry."""
    if conn.status != ConnectionStatus.CONNECTED or conn.refreshed_at is None:
        return ""
    idle = timezone.now() - conn.refreshed_at
    if idle < IDLE_WARNING_AFTER:
        return ""
    left = max(30 - idle.days, 0)
    return (
        f"The Exact Online tokens were last refreshed {idle.days} days ago; they expire "
        f"after 30 idle days ({left} left). Check that the scheduled keep-alive runs."
    )


def for_connection(conn) -> ExactClient:
    """The one factory: a client on the connection's host, its tokens and its shared budget.

    It lives here, not in client.py, so the client gets its tokens from a source handed in and
    never imports the services that refresh them."""
    return ExactClient(
        conn.base_url or base_url_for(conn.region),
        token_source=lambda rejected: ensure_fresh_token(conn, rejected=rejected),
        budget=SharedBudget(conn.pk),
        # A 401 even after a refresh: the grant or the division consent is gone (§1.8).
        on_token_rejected=lambda reason: mark_needs_reauth(conn, reason=reason),
    )
