"""manage.py rotate_encryption_key: every stored secret re-encrypted under the first key, so
the old key can then be removed from FIELD_ENCRYPTION_KEY."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from integrations.models import ExactConnection, MondayConnection
from tests import factories

pytestmark = pytest.mark.django_db
KEY_A, KEY_B, KEY_C = (Fernet.generate_key().decode() for _ in range(3))
COLUMNS = [
    ("integrations_exactconnection", "access_token"),
    ("integrations_exactconnection", "refresh_token"),
    ("integrations_mondayconnection", "api_token"),
]


def _raw() -> dict:
    values = {}
    with connection.cursor() as cursor:
        for table, column in COLUMNS:
            cursor.execute(f"SELECT id, {column} FROM {table} ORDER BY id")  # noqa: S608
            for pk, value in cursor.fetchall():
                values[(table, column, pk)] = value
    return values


def _rotate() -> str:
    out = StringIO()
    call_command("rotate_encryption_key", stdout=out)
    return out.getvalue()


def test_rotation_moves_every_secret_to_the_new_key_and_the_old_key_can_go(settings):
    settings.FIELD_ENCRYPTION_KEY = KEY_A
    exact = factories.make_exact_connection()
    second = factories.make_exact_connection(
        name="Second", access_token="second-access", refresh_token="second-refresh", divisions=()
    )
    monday = factories.make_monday_connection()
    empty = ExactConnection.objects.create(name="Never connected")
    before = _raw()

    settings.FIELD_ENCRYPTION_KEY = f"{KEY_B},{KEY_A}"
    report = _rotate()
    assert "5 re-encrypted, 0 already under the first key" in report
    after = _raw()
    for key, value in before.items():
        if value:
            assert after[key] != value
            Fernet(KEY_B.encode()).decrypt(after[key].encode())  # readable with B alone
    assert after[("integrations_exactconnection", "access_token", empty.pk)] == ""

    assert "0 re-encrypted, 5 already under the first key" in _rotate()  # idempotent
    assert _raw() == after

    settings.FIELD_ENCRYPTION_KEY = KEY_B  # the old key is gone
    exact.refresh_from_db()
    second.refresh_from_db()
    assert (exact.access_token, exact.refresh_token) == (
        factories.ACCESS_TOKEN,
        factories.REFRESH_TOKEN,
    )
    assert (second.access_token, second.refresh_token) == ("second-access", "second-refresh")
    assert MondayConnection.objects.get(pk=monday.pk).api_token == factories.MONDAY_TOKEN


def test_a_secret_no_listed_key_opens_is_reported_and_the_rest_still_rotate(settings):
    settings.FIELD_ENCRYPTION_KEY = KEY_C
    lost = factories.make_monday_connection(name="Lost key")
    settings.FIELD_ENCRYPTION_KEY = KEY_A
    exact = factories.make_exact_connection()
    settings.FIELD_ENCRYPTION_KEY = f"{KEY_B},{KEY_A}"
    out = StringIO()
    with pytest.raises(CommandError, match=f"MondayConnection {lost.pk} api_token"):
        call_command("rotate_encryption_key", stdout=out)
    assert "2 re-encrypted" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEY = KEY_B
    exact.refresh_from_db()
    assert exact.access_token == factories.ACCESS_TOKEN
