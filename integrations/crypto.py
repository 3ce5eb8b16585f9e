"""EncryptedTextField: OAuth tokens and API keys stored as Fernet ciphertext. Nothing else."""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

# Written by hand (about 30 lines) rather than django-fernet-fields/django-cryptography: those
# are unmaintained or pin old Django versions. MultiFernet gives key rotation: list the new key
# first in FIELD_ENCRYPTION_KEY (comma-separated) and old ciphertexts still decrypt.


@lru_cache(maxsize=4)
def _keys(keys: str) -> tuple[Fernet, ...]:
    try:
        return tuple(Fernet(k.strip().encode()) for k in keys.split(",") if k.strip())
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not a valid Fernet key.") from exc


def _setting() -> str:
    keys = getattr(settings, "FIELD_ENCRYPTION_KEY", "")
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set; secrets cannot be stored.")
    return keys


def fernet() -> MultiFernet:
    return MultiFernet(list(_keys(_setting())))


def written_with_first_key(ciphertext: str) -> bool:
    """True when the first key of FIELD_ENCRYPTION_KEY opens it (nothing to rotate)."""
    first = _keys(_setting())[0]  # MultiFernet encrypts with its first key
    try:
        first.decrypt(ciphertext.encode())
    except InvalidToken:
        return False
    return True


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    try:
        return fernet().decrypt(value.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEY (was the key changed?)."
        ) from exc


class EncryptedTextField(models.TextField):
    """A text column holding Fernet ciphertext; Python sees the plaintext. Never editable."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs["editable"] = False  # never rendered in forms, including the admin
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if not value:
            return ""
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return ""
        return encrypt(value)
