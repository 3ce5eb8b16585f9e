"""The Idempotency-Key cache of the Monday.com sandbox.

Reference: ../shared/reference/monday.md "Requests": monday caches the first answer to a
mutation for 30 minutes; a retry with the same key gets the cached answer
(`Idempotency-Replayed: true`); a concurrent duplicate gets 409 with `Retry-After`.
Keys are kept per token. Only answers of executed requests are cached: a request refused before
it ran (budget, ceiling, fault) frees its key so the retry runs for real.
"""

from __future__ import annotations

import copy
import threading
from datetime import timedelta

from integrations.sandbox.monday_http import Answer, idempotency_in_flight

IDEMPOTENCY_TTL = timedelta(minutes=30)


class IdempotencyCache:
    def __init__(self, clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        # (token, key) -> (slot, None) while in flight, (expires_at, Answer) once answered
        self._entries: dict[tuple[str, str], tuple[object, Answer | None]] = {}

    def claim(self, token: str, key: str, request_id: str) -> Answer | object:
        """A replayed Answer, a 409 Answer while the first is in flight, or a slot to fill."""
        now = self.clock.now()
        with self._lock:
            held = self._entries.get((token, key))
            if held is not None:
                expires_at, answer = held
                if answer is None:
                    return idempotency_in_flight(request_id)
                if now < expires_at:
                    return Answer(
                        answer.status,
                        copy.deepcopy(answer.body),
                        [*answer.headers, ("Idempotency-Replayed", "true")],
                    )
            slot = object()
            self._entries[(token, key)] = (slot, None)
            return slot

    def release(self, token: str, key: str, slot: object, answer: Answer | None) -> None:
        """Cache the answer of the request holding `slot`, or free the key (answer None)."""
        with self._lock:
            held = self._entries.get((token, key))
            if held is None or held[0] is not slot:
                return
            if answer is None:
                del self._entries[(token, key)]
            else:
                cached = Answer(answer.status, copy.deepcopy(answer.body))
                self._entries[(token, key)] = (self.clock.now() + IDEMPOTENCY_TTL, cached)
