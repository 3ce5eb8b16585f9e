"""Key rotation: re-encrypt every stored secret under the first key of FIELD_ENCRYPTION_KEY."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models.functions import Cast

import audit
from integrations import crypto
from integrations.crypto import EncryptedTextField


@dataclass
class RotationReport:
    rotated: int = 0
    current: int = 0
    empty: int = 0
    unreadable: list[str] = field(default_factory=list)  # "Model pk field", never a value


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Every model with EncryptedTextFields, and their names: found, not listed, so a secret
    column added later is rotated too."""
    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found


def rotate_all() -> RotationReport:
    """Re-encrypt every secret not yet under the first key. Idempotent; safe while the app
    runs: each row is read and written under its own row lock in a short transaction, so a
    token refreshed meanwhile (under the same lock) is never overwritten with an older one."""
    report = RotationReport()
    for model, names in encrypted_fields():
        pks = model._default_manager.order_by("pk").values_list("pk", flat=True)
        for pk in pks.iterator():
            _rotate_row(model, pk, names, report)
    audit.record(
        "secrets.rotated",
        actor="rotate_encryption_key",
        after={
            "rotated": report.rotated,
            "current": report.current,
            "unreadable": len(report.unreadable),
        },
    )
    return report


def _rotate_row(model, pk, names: list[str], report: RotationReport) -> None:
    # Cast to a plain text field: the ciphertext as stored, not decrypted by the field.
    raw = {f"raw_{name}": Cast(name, models.TextField()) for name in names}
    with transaction.atomic():
        row = (
            model._default_manager.select_for_update()
            .filter(pk=pk)
            .annotate(**raw)
            .values(*raw)
            .first()
        )
        if row is None:  # deleted meanwhile
            return
        plaintexts = {}
        for name in names:
            ciphertext = row[f"raw_{name}"]
            if not ciphertext:
                report.empty += 1
            elif crypto.written_with_first_key(ciphertext):
                report.current += 1
            else:
                try:
                    plaintexts[name] = crypto.decrypt(ciphertext)
                except ImproperlyConfigured:
                    report.unreadable.append(f"{model.__name__} {pk} {name}")
        if plaintexts:
            # update() encrypts through the field, with the first key.
            model._default_manager.filter(pk=pk).update(**plaintexts)
            report.rotated += len(plaintexts)
