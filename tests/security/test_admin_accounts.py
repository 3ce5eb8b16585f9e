"""Admin accounts guarded: failed logins lock out per user and address (django-axes), and staff
can be required to pass a second factor (TOTP, django-otp) before any admin page."""

from datetime import timedelta
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "pw-admin-123"  # the staff_user fixture's


def _login(client, password, **extra):
    return client.post(LOGIN, {"username": "admin", "password": password}, **extra)


def test_the_sixth_attempt_is_refused_even_with_the_right_password_until_the_cool_off(
    client, staff_user
):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert _login(client, "wrong").status_code == 200  # the form again, with an error
    assert _login(client, "wrong").status_code == 429  # the 5th failure locks
    locked = _login(client, PASSWORD)  # the 6th attempt, with the right password
    assert locked.status_code == 429 and "_auth_user_id" not in client.session
    assert "Too many failed logins" in locked.content.decode()
    # Per user AND address: the same user from elsewhere, and others from here, still log in.
    assert _login(Client(), PASSWORD, REMOTE_ADDR="10.1.2.3").status_code == 302
    get_user_model().objects.create_superuser("other", "o@example.test", "pw-other-123")
    other = Client().post(LOGIN, {"username": "other", "password": "pw-other-123"})
    assert other.status_code == 302
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        assert _login(client, PASSWORD).status_code == 302
        assert client.session["_auth_user_id"] == str(staff_user.pk)


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(settings):
    from mlconnector.client_ip import client_ip

    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1  # the proxy appended the address it saw; 6.6.6.6 is spoofed
    assert client_ip(request) == "203.0.113.9"


def _token(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def require_2fa(settings):
    settings.ADMIN_REQUIRE_2FA = True


CONNECTION_PAGES = ["/admin/integrations/exactconnection/", "/integrations/exact/connect/"]


def _verify_url(response) -> str:
    assert response.status_code == 302, response.status_code
    return response["Location"]


def test_staff_without_a_second_factor_cannot_reach_the_connection_pages(
    require_2fa, admin_client, exact_connection
):
    for page in CONNECTION_PAGES:
        response = admin_client.get(page)
        location = _verify_url(response)
        assert urlsplit(location).path == "/admin/two-factor/"
        assert parse_qs(urlsplit(location).query)["next"] == [page]
    page = admin_client.get("/admin/two-factor/").content.decode()
    assert "authenticator app" in page and "data:image/svg+xml;base64," in page


def test_staff_enrol_an_authenticator_and_then_reach_the_connection_pages(
    require_2fa, admin_client, staff_user, exact_connection
):
    admin_client.get("/admin/two-factor/")  # shows a new, unconfirmed authenticator
    device = TOTPDevice.objects.get(user=staff_user, confirmed=False)
    wrong = admin_client.post("/admin/two-factor/", {"token": "000000"})
    assert wrong.status_code == 200 and "not right" in wrong.content.decode()
    assert admin_client.get(CONNECTION_PAGES[0]).status_code == 302
    TOTPDevice.objects.get(pk=device.pk).throttle_reset()  # the 1 s wait after a wrong code
    done = admin_client.post(
        "/admin/two-factor/?next=/admin/integrations/exactconnection/", {"token": _token(device)}
    )
    assert done["Location"] == "/admin/integrations/exactconnection/"
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert admin_client.get(CONNECTION_PAGES[0]).status_code == 200
    assert AuditEvent.objects.filter(action="admin.2fa.enrolled", actor="admin").exists()


def test_an_enrolled_user_only_verifies_and_never_sees_the_secret_again(
    require_2fa, admin_client, staff_user
):
    device = TOTPDevice.objects.create(user=staff_user, name="Phone", confirmed=True)
    page = admin_client.get("/admin/two-factor/").content.decode()
    assert "data:image" not in page and device.key not in page
    assert admin_client.get("/admin/").status_code == 302
    admin_client.post("/admin/two-factor/", {"token": _token(device)})
    assert admin_client.get("/admin/").status_code == 200
    assert TOTPDevice.objects.filter(user=staff_user).count() == 1


def test_a_foreign_next_is_ignored(require_2fa, admin_client, staff_user):
    device = TOTPDevice.objects.create(user=staff_user, name="Phone", confirmed=True)
    done = admin_client.post(
        "/admin/two-factor/?next=https://evil.example/", {"token": _token(device)}
    )
    assert done["Location"] == "/admin/"


def test_without_the_requirement_staff_need_no_second_factor(admin_client, exact_connection):
    assert settings.ADMIN_REQUIRE_2FA is False  # development and tests
    assert admin_client.get(CONNECTION_PAGES[0]).status_code == 200


def test_add_totp_device_prints_an_otpauth_url_once(staff_user):
    out = StringIO()
    call_command("add_totp_device", "admin", stdout=out)
    device = TOTPDevice.objects.get(user=staff_user)
    assert device.confirmed and "otpauth://totp/" in out.getvalue()
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--replace"):
        call_command("add_totp_device", "admin", stdout=StringIO())
    call_command("add_totp_device", "admin", "--replace", stdout=StringIO())
    assert TOTPDevice.objects.filter(user=staff_user).count() == 1
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()


def test_the_device_admin_never_shows_the_secret(admin_client, staff_user):
    device = TOTPDevice.objects.create(user=staff_user, name="Phone", confirmed=True)
    page = admin_client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200 and device.key not in page.content.decode()
