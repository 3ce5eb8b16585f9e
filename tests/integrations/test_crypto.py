import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from integrations import crypto
from integrations.models import ExactConnection, MondayConnection
from tests.factories import ACCESS_TOKEN, MONDAY_TOKEN, REFRESH_TOKEN

pytestmark = pytest.mark.django_db


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_exact_tokens_are_stored_as_ciphertext(exact_connection):
    raw_access = _raw("integrations_exactconnection", "access_token", exact_connection.pk)
    raw_refresh = _raw("integrations_exactconnection", "refresh_token", exact_connection.pk)
    assert ACCESS_TOKEN not in raw_access and REFRESH_TOKEN not in raw_refresh
    assert raw_access.startswith("gAAAA")  # Fernet token prefix
    fresh = ExactConnection.objects.get(pk=exact_connection.pk)
    assert fresh.access_token == ACCESS_TOKEN and fresh.refresh_token == REFRESH_TOKEN


def test_monday_token_is_stored_as_ciphertext(monday_connection):
    raw = _raw("integrations_mondayconnection", "api_token", monday_connection.pk)
    assert MONDAY_TOKEN not in raw
    assert MondayConnection.objects.get(pk=monday_connection.pk).api_token == MONDAY_TOKEN


def test_empty_secret_stays_empty(db):
    conn = ExactConnection.objects.create(name="Empty")
    assert _raw("integrations_exactconnection", "access_token", conn.pk) == ""
    assert ExactConnection.objects.get(pk=conn.pk).access_token == ""


def test_encrypted_fields_are_not_editable_in_forms():
    field = ExactConnection._meta.get_field("access_token")
    assert field.editable is False


def test_rotated_key_still_decrypts_old_ciphertext(settings):
    from cryptography.fernet import Fernet

    old = settings.FIELD_ENCRYPTION_KEY
    ciphertext = crypto.encrypt("secret-value")
    settings.FIELD_ENCRYPTION_KEY = f"{Fernet.generate_key().decode()},{old}"
    assert crypto.decrypt(ciphertext) == "secret-value"


def test_missing_key_is_reported_when_first_used(settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY"):
        crypto.encrypt("x")


def test_wrong_key_gives_a_clear_error(settings):
    from cryptography.fernet import Fernet

    ciphertext = crypto.encrypt("secret-value")
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        crypto.decrypt(ciphertext)
