"""The load generator: signed webhook bodies POSTed at a fixed rate, response times measured.

No Django here: the webhook load runs this module in a process of its own
(`python -m integrations.benchmark.load_client`), so that its threads do not share an
interpreter lock with the sandboxes the benchmark process serves to the workers; a response
time then measures our server, not the generator waiting for its turn.
"""

from __future__ import annotations

import argparse
import gc
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    max_dispatch_lag_ms: float = 0.0
    wall_s: float = 0.0
    error_samples: list[str] = field(default_factory=list)

    def figures(self) -> dict:
        return {
            "sent": self.sent,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "achieved_rate_per_s": round(self.sent / self.wall_s, 1) if self.wall_s else 0.0,
            "p50_ms": _round(percentile(self.latencies_ms, 50)),
            "p95_ms": _round(percentile(self.latencies_ms, 95)),
            "p99_ms": _round(percentile(self.latencies_ms, 99)),
            "max_ms": _round(max(self.latencies_ms, default=None)),
            "max_dispatch_lag_ms": round(self.max_dispatch_lag_ms, 1),
            "error_samples": self.error_samples[:5],
        }


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile (pct in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def post_at_rate(url: str, bodies: list[bytes], *, rate: float) -> LoadResult:
    """POST each body once, paced at `rate` a second from a pool of threads. Response time is
    measured from the send to the end of the answer."""
    result = LoadResult()
    lock = threading.Lock()
    parts = urlsplit(url)
    address = (parts.hostname, parts.port or 80)
    head = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n"
        "Content-Type: application/json\r\nX-Forwarded-Proto: https\r\n"
    ).encode()

    def send(body: bytes) -> None:
        # A raw socket, one connection per request (gunicorn's sync workers close it anyway):
        # http.client parsed every answer's headers with the email package, and the generator
        # took 0.7 ms of CPU a webhook from the two cores it shares with the server.
        request = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
        started = time.perf_counter()
        try:
            with socket.create_connection(address, timeout=10) as conn:
                conn.sendall(request)
                answer = _read_to_end(conn)
            elapsed = (time.perf_counter() - started) * 1000
            code, payload = _status_and_body(answer)
            status = json.loads(payload).get("status") if code == 200 else None
            problem = "" if code == 200 else f"HTTP {code}"
        except (OSError, ValueError) as exc:
            elapsed, status, problem = None, None, type(exc).__name__
        with lock:
            result.sent += 1
            if elapsed is not None:
                result.latencies_ms.append(elapsed)
            if problem:
                result.errors += 1
                result.error_samples.append(problem)
            elif status == "duplicate":
                result.duplicates += 1
            else:
                result.accepted += 1

    # A full garbage collection here would stall the generator's threads and be counted as
    # server time.
    gc.collect()
    gc.freeze()
    gc.disable()
    start = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=64, thread_name_prefix="load") as pool:
            for index, body in enumerate(bodies):
                due = start + index / rate
                lag = time.perf_counter() - due
                if lag < 0:
                    time.sleep(-lag)
                else:
                    result.max_dispatch_lag_ms = max(result.max_dispatch_lag_ms, lag * 1000)
                pool.submit(send, body)
    finally:
        result.wall_s = time.perf_counter() - start
        gc.enable()
        gc.unfreeze()
    return result


def _read_to_end(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _status_and_body(answer: bytes) -> tuple[int, bytes]:
    """The status code and body of an HTTP/1.1 answer read to the end (Connection: close)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or not status_line[0].startswith(b"HTTP/"):
        raise ValueError("not an HTTP answer")
    return int(status_line[1]), body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--bodies", required=True, help="JSON file: a list of bodies (text)")
    parser.add_argument("--out", required=True, help="JSON file the result is written to")
    args = parser.parse_args()
    with open(args.bodies, encoding="utf-8") as handle:
        bodies = [body.encode() for body in json.load(handle)]
    result = post_at_rate(args.url, bodies, rate=args.rate)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(asdict(result), handle)


if __name__ == "__main__":
    main()
