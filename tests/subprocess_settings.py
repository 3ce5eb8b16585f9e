"""Run Python in a fresh process with the project's settings module and a chosen environment:
how the settings tests see what an operator's environment variables do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FERNET_KEY = "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdDE="


def run_python(
    code: str, env: dict, *, drop: tuple[str, ...] = (), debug: str = "true"
) -> subprocess.CompletedProcess:
    """`code` under mlconnector.settings; variables starting with DJANGO or any of `drop` are
    removed from this process's environment first, then `env` is applied."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", *drop))}
    clean.update(
        DEBUG=debug,
        SECRET_KEY="x" * 50,
        FIELD_ENCRYPTION_KEY=FERNET_KEY,
        DJANGO_SETTINGS_MODULE="mlconnector.settings",
        PYTHONPATH=str(ROOT),
        **env,
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env=clean,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
