"""Exact Online OAuth start and callback views (staff with change permission only)."""

from __future__ import annotations

import logging
import re
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET

from integrations.errors import IntegrationError
from integrations.exact import connections, oauth
from integrations.exact.client import base_url_for
from integrations.models import ExactConnection

logger = logging.getLogger(__name__)

SESSION_KEY = "exact_oauth"
PERMISSION = "integrations.change_exactconnection"
_SAFE_ERROR = re.compile(r"[^A-Za-z0-9_.\- ]")


def exact_redirect_uri() -> str:
    """The redirect URI registered in Exact's App Center (must match exactly)."""
    return settings.PUBLIC_BASE_URL + reverse("exact-oauth-callback")


def _require_permission(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def _changelist() -> str:
    return reverse("admin:integrations_exactconnection_changelist")


def _change_page(pk: int | None) -> str:
    if pk is None:
        return _changelist()
    return reverse("admin:integrations_exactconnection_change", args=[pk])


@require_GET
@staff_member_required
def exact_oauth_start(request: HttpRequest) -> HttpResponse:
    """Send the browser to Exact's consent screen with a fresh `state` kept in the session.

    `?connection=<id>` re-authorizes that connection; otherwise `?region=` picks the host."""
    _require_permission(request)
    connection_id = request.GET.get("connection")
    if connection_id:
        try:
            conn = ExactConnection.objects.get(pk=int(connection_id))
        except (ValueError, ExactConnection.DoesNotExist):
            messages.error(request, "That Exact Online connection does not exist.")
            return redirect(_changelist())
        region, base_url, pk = conn.region, conn.base_url or base_url_for(conn.region), conn.pk
    else:
        region = request.GET.get("region") or ExactConnection.Region.NL
        if region not in ExactConnection.Region.values:
            messages.error(request, "Choose one of the listed Exact Online regions.")
            return redirect(_changelist())
        base_url, pk = base_url_for(region), None
    state = secrets.token_urlsafe(32)
    try:
        url = oauth.authorize_url(base_url, redirect_uri=exact_redirect_uri(), state=state)
    except IntegrationError as exc:
        messages.error(request, f"{exc.message} {exc.hint}".strip())
        return redirect(_change_page(pk))
    request.session[SESSION_KEY] = {
        "state": state,
        "connection_id": pk,
        "region": region,
        "base_url": base_url,
    }
    return HttpResponseRedirect(url)


@require_GET
@staff_member_required
def exact_oauth_callback(request: HttpRequest) -> HttpResponse:
    """Finish the authorization: check `state` (single use), exchange the code, store the
    connection. Every failure ends on an admin page with a message; nothing is half-saved."""
    _require_permission(request)
    pending = request.session.pop(SESSION_KEY, None)
    given_state = request.GET.get("state", "")
    if not pending or not secrets.compare_digest(str(pending.get("state", "")), given_state):
        logger.warning("exact.oauth.callback.bad_state", extra={"user_id": request.user.pk})
        messages.error(
            request,
            "The answer from Exact Online could not be matched to a sign-in started here "
            "(missing or wrong state). Nothing was saved. Click “Connect Exact Online” again.",
        )
        return redirect(_changelist())
    back = _change_page(pending.get("connection_id"))
    error = request.GET.get("error")
    if error == "access_denied":
        messages.warning(
            request,
            "The authorization was cancelled in Exact Online. Nothing was saved; "
            "connect again when you are ready.",
        )
        return redirect(back)
    if error or not request.GET.get("code"):
        reason = _SAFE_ERROR.sub("", error or "no code")[:60]
        messages.error(
            request,
            f"Exact Online did not authorize the connection ({reason}). Nothing was saved; "
            "try again, and check the app registration if it keeps failing.",
        )
        return redirect(back)
    connection = None
    if pending.get("connection_id"):
        connection = ExactConnection.objects.filter(pk=pending["connection_id"]).first()
        if connection is None:
            messages.error(request, "The connection being re-authorized no longer exists.")
            return redirect(_changelist())
    try:
        tokens = oauth.exchange_code(
            pending["base_url"], code=request.GET["code"], redirect_uri=exact_redirect_uri()
        )
        conn = connections.connect_exact(
            user=request.user,
            base_url=pending["base_url"],
            region=pending["region"],
            tokens=tokens,
            connection=connection,
        )
    except IntegrationError as exc:
        logger.warning("exact.oauth.callback.failed", extra={"error": type(exc).__name__})
        messages.error(request, f"Connecting Exact Online failed: {exc.message} {exc.hint}".strip())
        return redirect(back)
    messages.success(
        request,
        f"Connected to Exact Online as {conn.exact_user_name}. Tick the divisions to "
        "synchronise below and save.",
    )
    return redirect(_change_page(conn.pk))
