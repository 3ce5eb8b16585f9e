"""Development-only secrets: generated once, kept in a git-ignored file under var/."""

from __future__ import annotations

import json
import secrets
from pathlib import Path


def _generate(name: str) -> str:
    if name == "FIELD_ENCRYPTION_KEY":
        from cryptography.fernet import Fernet

        return Fernet.generate_key().decode()
    return secrets.token_urlsafe(50)


def dev_secret(folder: Path, name: str) -> str:
    """Return the development value of NAME, creating and persisting it on first use."""
    path = folder / "dev-secrets.json"
    values = json.loads(path.read_text()) if path.exists() else {}
    if name not in values:
        values[name] = _generate(name)
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2))
        path.chmod(0o600)
    return values[name]
