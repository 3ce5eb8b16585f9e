"""Monday.com OAuth start and callback views (staff with change permission only)."""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET

from integrations.errors import IntegrationError
from integrations.models import MondayConnection
from integrations.monday import connections as monday_connections
from integrations.monday import oauth

logger = logging.getLogger(__name__)

SESSION_KEY = "monday_oauth"
PERMISSION = "integrations.change_mondayconnection"
MAX_PENDING_STATES = 5


def monday_redirect_uri() -> str:
    """The redirect URI registered with the Monday.com app (must match exactly)."""
    return settings.PUBLIC_BASE_URL + reverse("monday-oauth-callback")


def _changelist() -> str:
    return reverse("admin:integrations_mondayconnection_changelist")


def _require_permission(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


@require_GET
@staff_member_required
def monday_oauth_start(request: HttpRequest) -> HttpResponse:
    """Send the browser to Monday's consent screen with a one-use `state` kept in the session.

    `?connection=<id>` re-authorizes that connection; `?name=` names a new one."""
    _require_permission(request)
    connection_id = request.GET.get("connection", "")
    if connection_id and not MondayConnection.objects.filter(pk=connection_id).exists():
        messages.error(request, "That Monday.com connection does not exist.")
        return redirect(_changelist())
    state = secrets.token_urlsafe(32)
    try:
        url = oauth.authorize_url(state=state, redirect_uri=monday_redirect_uri())
    except IntegrationError as err:
        messages.error(request, str(err))
        return redirect(_changelist())
    pending = dict(list(request.session.get(SESSION_KEY, {}).items())[-(MAX_PENDING_STATES - 1) :])
    pending[state] = {
        "connection": connection_id,
        "name": request.GET.get("name", "")[:100] or "Monday.com",
    }
    request.session[SESSION_KEY] = pending
    return redirect(url)


@require_GET
@staff_member_required
def monday_oauth_callback(request: HttpRequest) -> HttpResponse:
    """Check `state` (one use), exchange the code, validate the token with `me`, save it."""
    _require_permission(request)
    pending = request.session.get(SESSION_KEY, {})
    context = pending.pop(request.GET.get("state", ""), None)
    request.session[SESSION_KEY] = pending
    if context is None:
        logger.warning("monday.oauth.bad_state")
        messages.error(request, "The Monday.com sign-in could not be verified. Please start again.")
        return redirect(_changelist())
    if request.GET.get("error"):
        cancelled = request.GET["error"] == "access_denied"
        messages.warning(
            request,
            "Connecting Monday.com was cancelled."
            if cancelled
            else "Monday.com did not authorize the connection. Please start again.",
        )
        return redirect(_changelist())
    code = request.GET.get("code", "")
    if not code:
        messages.error(request, "Monday.com sent no authorization code. Please start again.")
        return redirect(_changelist())
    connection = None
    if context.get("connection"):
        connection = MondayConnection.objects.filter(pk=context["connection"]).first()
    try:
        conn = monday_connections.connect_monday_oauth(
            user=request.user,
            name=context.get("name", ""),
            code=code,
            redirect_uri=monday_redirect_uri(),
            connection=connection,
        )
    except IntegrationError as err:
        messages.error(request, str(err))
        return redirect(_changelist())
    messages.success(request, f"Monday.com connected as {conn.user_name} ({conn.account_name}).")
    return redirect(reverse("admin:integrations_mondayconnection_change", args=[conn.pk]))
