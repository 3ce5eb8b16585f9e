"""The second factor for staff (ADMIN_REQUIRE_2FA): a gate in front of every staff page, and the
one page where staff enrol an authenticator app (TOTP) or enter its current code."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import django_otp
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.plugins.otp_totp.models import TOTPDevice

import audit

DEVICE_NAME = "Authenticator app"


class AdminTwoFactorMiddleware:
    """With ADMIN_REQUIRE_2FA on, a staff session not yet verified with a code is sent to the
    two-factor page from everywhere (admin, OAuth connect views) but login and logout."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_verify(request):
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('two-factor')}?{query}")
        return self.get_response(request)

    @staticmethod
    def _must_verify(request) -> bool:
        if not settings.ADMIN_REQUIRE_2FA:
            return False
        user = request.user
        if not (user.is_authenticated and user.is_staff) or user.is_verified():
            return False
        open_paths = {reverse("two-factor"), reverse("admin:login"), reverse("admin:logout")}
        return request.path_info not in open_paths and not request.path_info.startswith(
            f"/{settings.STATIC_URL.lstrip('/')}"
        )


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Code from your authenticator app",
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _device(user) -> TOTPDevice:
    """The user's confirmed authenticator, else the one being enrolled (created once)."""
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if confirmed:
        return confirmed
    pending, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": DEVICE_NAME}
    )
    return pending


def _qr_data_uri(url: str) -> str:
    import qrcode
    import qrcode.image.svg

    svg = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def _next_url(request) -> str:
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


@staff_member_required
def two_factor(request):
    """Enrol (first time: QR code, then a code to confirm) or verify (a code) for this session.

    Self-enrolment is open only while the user has no confirmed authenticator; after that the
    secret is never shown again, and a lost phone is replaced by an administrator (delete the
    device in the admin, or `manage.py add_totp_device <user> --replace`)."""
    device = _device(request.user)
    enrolling = not device.confirmed
    form = TokenForm(request.POST or None)
    error = ""
    if form.is_valid():
        # django-otp throttles: after each wrong code the next is refused for 1, 2, 4 ... s.
        allowed, _ = device.verify_is_allowed()
        if not allowed:
            error = "Too many wrong codes: wait a minute, then enter the code your app shows now."
        elif device.verify_token(form.cleaned_data["token"].strip()):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                audit.record("admin.2fa.enrolled", actor=request.user, obj=request.user)
            django_otp.login(request, device)
            return redirect(_next_url(request))
        else:
            error = (
                "That code is not right (or was used already). Enter the code your app shows now."
            )
    context = {
        **admin.site.each_context(request),
        "title": "Set up your authenticator" if enrolling else "Enter your authenticator code",
        "form": form,
        "error": error,
        "enrolling": enrolling,
        "qr": _qr_data_uri(device.config_url) if enrolling else "",
        "secret": base64.b32encode(device.bin_key).decode() if enrolling else "",
    }
    return TemplateResponse(request, "admin/two_factor.html", context)
