"""The Exact token lifecycle of a connection: one refresh at a time under a row lock, the
rotated pair stored before it is used, needs-re-authorization, and the keep-alive of idle
connections (reference §1.5-1.8: 570 s rule, rotation, 30-day idle expiry).

Shared state (many workers, many machines): the token pair lives only in the ExactConnection
row (PostgreSQL). A refresh runs under select_for_update of that row and re-reads the stored
pair first, so however many processes on however many machines find the token expired, one
refreshes and the others use what it stored. No process keeps a token of its own beyond the
request in hand (a 401 hands it back). Tested by tests/reliability/test_many_machines.py.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

import audit
from integrations.errors import (
    AccessRefused,
    IntegrationError,
    ReconnectRequired,
    RemoteUnavailable,
)
from integrations.exact import oauth
from integrations.exact.client import base_url_for
from integrations.exact.oauth import RefreshTooEarly, TokenSet
from integrations.models import ConnectionStatus, ExactConnection

# Exact refuses a refresh until 570 s after the previous token was issued (TooEarlyToRefreshTokens).
EARLIEST_REFRESH = timedelta(seconds=570)

logger = logging.getLogger(__name__)


def host_of(conn: ExactConnection) -> str:
    return conn.base_url or base_url_for(conn.region)


# A refresh token dies after 30 idle days; keep-alive refreshes after 20, the admin warns at 25.
KEEP_ALIVE_AFTER = timedelta(days=20)


IDLE_WARNING_AFTER = timedelta(days=25)


ACCESS_REFUSED_HINT = (
    "The token itself is fine, so re-authorizing is not the cure. In Exact Online, check that "
    "this division is ticked in the app's consent and that the app has the scopes for this data "
    "(App Center)."
)


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
        tokens = oauth.refresh(host_of(locked), refresh_token=locked.refresh_token)
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
