"""Service: events/s and runs/s through the gRPC API, with many listeners pending.

The server runs in a child process (``python -m bench.service serve DIR``, default config:
SQLite store with synchronous=FULL, so every acknowledged call is durable) and the client in
this one, so the two do not share a GIL. Runs are registered with Inngest's reminder rule
(``cancelOn: [{event: "tasks/reminder.deleted", match: "data.reminderId"}]``); a tenth of the
published events cancel one run each, and every response is checked for exactly those
decisions.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._timing import percentile

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RULES = [{"event": "tasks/reminder.deleted", "match": "data.reminderId"}]
ENV = "bench"


def ulid(ms: int, n: int) -> str:
    """A valid ULID: 48-bit time ``ms`` then the 80-bit number ``n`` (deterministic)."""
    value = (ms << 80) | n
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


class ServerProcess:
    """The server process; started and stopped (SIGTERM, then wait) by this object only."""

    def __init__(self, data_dir: Path) -> None:
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), root) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.service", "serve", str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"benchmark server did not start (said {line!r})")
        self.target = f"127.0.0.1:{line.split()[1]}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _serve(data_dir: str) -> int:
    import signal
    import threading

    from server.config import Config
    from server.grpc_server import build_server

    service = build_server(Config(data_dir=Path(data_dir), grpc_port=0, http_port=0))
    print(f"PORT {service.grpc_port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda s, f: stop.set())
    stop.wait()
    service.stop(grace=1.0)
    return 0


def run_request(i: int, now: int) -> dict[str, Any]:
    return {
        "run_id": ulid(now, i),
        "app_id": "bench",
        "function_id": "send-reminder",
        "started_at": now - 60_000,
        "cancel_on": _RULES,
        "trigger": {"name": "tasks/reminder.created", "data": {"reminderId": f"rem_{i}"}},
    }


def register(client: Any, start: int, stop: int, batch: int, now: int) -> float:
    """Runs [start, stop) in batches (1 = unary RegisterRun); returns runs per second."""
    t0 = time.perf_counter()
    if batch == 1:
        for i in range(start, stop):
            client.register_run(**run_request(i, now))
    else:
        for lo in range(start, stop, batch):
            client.register_runs([run_request(i, now) for i in range(lo, min(stop, lo + batch))])
    return (stop - start) / (time.perf_counter() - t0)


class _Events:
    """Reminder-deleted events: one in ten names a pending run (each cancelled once)."""

    def __init__(self, pending: int) -> None:
        self.rng = random.Random(5)
        self.fresh = list(range(pending))
        self.rng.shuffle(self.fresh)
        self.k = 0

    def next(self) -> tuple[dict[str, Any], int | None]:
        self.k += 1
        target = self.fresh.pop() if self.k % 10 == 0 and self.fresh else None
        rid = f"rem_{target}" if target is not None else f"rem_none_{self.k}"
        return {"name": "tasks/reminder.deleted", "data": {"reminderId": rid}}, target


def _publish(
    client: Any,
    events: _Events,
    batch: int,
    calls: int,
    now: int,
    latencies: list[int] | None = None,
) -> tuple[float, bool]:
    """``calls`` PublishEvents of ``batch`` events; events/s and whether decisions matched."""
    ok, sent, elapsed = True, 0, 0.0
    for _ in range(calls):
        drawn = [events.next() for _ in range(batch)]
        t0 = time.perf_counter_ns()
        response = client.publish([e for e, _ in drawn])
        dt = time.perf_counter_ns() - t0
        elapsed += dt / 1e9
        sent += batch
        want = {ulid(now, t) for _, t in drawn if t is not None}
        ok &= {d.run_id for d in response.decisions} == want
        if latencies is not None and want:
            latencies.append(dt)
    return sent / elapsed, ok


def _publish_all(
    client: Any, pending: int, now: int, quick: bool
) -> tuple[dict[str, float], dict[str, bool]]:
    events = _Events(pending)
    rows: dict[str, float] = {}
    checks: dict[str, bool] = {}
    latencies: list[int] = []
    plan = ((1, 50), (10, 20), (100, 5)) if quick else ((1, 2000), (10, 500), (100, 100))
    for batch, calls in plan:
        rate, ok = _publish(client, events, batch, calls, now, latencies if batch == 1 else None)
        rows[f"events/s, PublishEvents batches of {batch}"] = rate
        checks[f"decisions for batches of {batch}"] = ok
    rows["publish-to-decision p50 (µs, batch of 1, decision in the response)"] = (
        percentile(latencies, 50) / 1000
    )
    rows["publish-to-decision p99 (µs)"] = percentile(latencies, 99) / 1000
    return rows, checks


def run_service(*, quick: bool) -> dict[str, Any]:
    """Register ``pending`` runs (batched, then unary), then publish in batches of 1, 10, 100."""
    from server.client import Client

    pending = 2_000 if quick else 100_000
    now = int(time.time() * 1000)
    rows: dict[str, Any] = {"pending listeners": pending}
    with tempfile.TemporaryDirectory(prefix="cancelmatch-bench-svc-") as tmp:
        child = ServerProcess(Path(tmp))
        try:
            with Client(child.target, env=ENV) as client:
                rows["runs/s registered, RegisterRuns batches of 1000"] = register(
                    client, 0, pending, 1000, now
                )
                unary = 100 if quick else 1000
                rows["runs/s registered, unary RegisterRun"] = register(
                    client, pending, pending + unary, 1, now
                )
                published, checks = _publish_all(client, pending, now, quick)
                rows.update(published)
        finally:
            child.stop()
    return {"rows": rows, "checks": checks}


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        raise SystemExit(_serve(sys.argv[2]))
    raise SystemExit("usage: python -m bench.service serve DATA_DIR")
