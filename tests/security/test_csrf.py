"""CSRF: every admin URL refuses a POST without a token; only the signed webhook is exempt."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.reliability.counters import COUNTS

pytestmark = pytest.mark.django_db


def _kwarg_names(pattern) -> list[str]:
    converters = getattr(pattern.pattern, "converters", None)
    if converters:
        return list(converters)
    regex = getattr(pattern.pattern, "regex", None)
    return list(regex.groupindex) if regex is not None else []


def _walk(patterns, names=()):
    for pattern in patterns:
        here = (*names, *_kwarg_names(pattern))
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, here)
        elif isinstance(pattern, URLPattern):
            yield pattern, here


def admin_urls(pk: int) -> list[str]:
    """Every named admin URL, with its object ids filled in."""
    urls = []
    for pattern, names in _walk(admin.site.get_urls()):
        if not pattern.name:
            continue
        values = {"app_label": "integrations", "content_type_id": 1}
        kwargs = {name: values.get(name, pk) for name in names}
        urls.append(reverse(f"admin:{pattern.name}", kwargs=kwargs))
    return sorted(set(urls))


@pytest.fixture
def csrf_client(staff_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    return client


def test_every_admin_url_refuses_a_post_without_a_csrf_token(csrf_client, route, staff_user):
    urls = admin_urls(route.pk)
    assert len(urls) > 60, len(urls)  # every model's add/change/delete/history + custom views
    for url in urls:
        COUNTS["bad inputs tried: admin POSTs without a CSRF token"] += 1
        response = csrf_client.post(url, {"name": "forged", "action": "delete_selected"})
        assert response.status_code == 403, (url, response.status_code)
        assert b"CSRF verification failed" in response.content, url
    route.refresh_from_db()
    assert route.name != "forged"


def test_the_same_post_with_the_token_gets_through(csrf_client, route):
    """The control: the 403s above come from the missing token, not from the URL."""
    url = reverse("admin:integrations_route_change", args=[route.pk])
    assert csrf_client.get(url).status_code == 200
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post(url, {"csrfmiddlewaretoken": token})
    assert response.status_code == 200  # the form comes back with its validation errors
    # The page's own script sends an X-CSRFToken header, so look for Django's refusal itself.
    assert b"CSRF verification failed" not in response.content


def test_only_the_signed_webhook_is_csrf_exempt():
    exempt = []
    for pattern, _ in _walk(get_resolver().url_patterns):
        callback = pattern.callback
        if getattr(callback, "csrf_exempt", False):
            exempt.append(pattern.name or str(pattern.pattern))
    assert exempt == ["exact-webhook"]
