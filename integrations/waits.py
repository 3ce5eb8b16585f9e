"""How the product waits out a rate limit or a backoff: `waits.sleep`.

The clients take it as their default `sleep` when they are built. Production never replaces it
(it is time.sleep); a test stack may, so that every wait moves one shared fake clock forward
instead of passing real time. Nothing here knows about tests or sandboxes.
"""

from __future__ import annotations

import time


def sleep(seconds: float) -> None:
    time.sleep(seconds)
