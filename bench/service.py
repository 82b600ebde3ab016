"""Service: events/s and runs/s through the gRPC API, with many listeners pending.

The server runs in a child process (``python -m bench.service serve DIR [STORE]``, default
config: SQLite store with synchronous=FULL, so every acknowledged call is durable) and the
client in this one, so the two do not share a GIL. Runs are registered with Inngest's
reminder rule (``cancelOn: [{event: "tasks/reminder.deleted", match: "data.reminderId"}]``);
a tenth of the published events cancel one run each, and every response is checked for
exactly those decisions.

Scale out (issue 10, :func:`run_scale_out`): the same workload on one SQLite node, one
replica on Redis and two replicas on one Redis (AOF everysec; AOF always for one replica),
the CPU each process used meanwhile, Redis round trips per batch, Redis memory per pending
listener, and how fast a cold replica warms a bucket of 100k / 1M listeners. The Redis is
a ``redis-server`` this module starts on a free port (never the shared 6379).
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

    def __init__(self, data_dir: Path, store: str = "sqlite", root: Path | None = None) -> None:
        root = root or Path(__file__).resolve().parent.parent  # another checkout: "before"
        env = dict(os.environ)
        env["PYTHONPATH"] = str(root)
        store_arg = [] if store == "sqlite" else [store]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.service", "serve", str(data_dir), *store_arg],
            cwd=root,
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


def _serve(data_dir: str, store: str = "sqlite") -> int:
    import signal
    import threading

    from server.config import Config
    from server.grpc_server import build_server

    service = build_server(Config(data_dir=Path(data_dir), grpc_port=0, http_port=0,
                                  store=store))
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
    scaled = run_scale_out(quick=quick)
    rows.update(scaled["rows"])
    checks.update(scaled["checks"])
    return {"rows": rows, "checks": checks}


# ---------------------------------------------------------------------- scale out (issue 10)


def _free_port() -> int:
    import socket

    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port != 6379:
            return port


class RedisProcess:
    """A redis-server of our own on a free loopback port, in a temporary folder."""

    def __init__(self, folder: Path, appendfsync: str = "everysec") -> None:
        import shutil

        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server not found (install Redis >= 7.0)")
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(folder),
             "--save", "", "--appendonly", "yes", "--appendfsync", appendfsync,
             "--logfile", "redis.log"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"redis://127.0.0.1:{self.port}/0"
        deadline = time.monotonic() + 30
        while True:
            try:
                self.client().ping()
                return
            except Exception:  # noqa: BLE001 - not up yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def client(self) -> Any:
        import redis

        return redis.Redis(port=self.port, socket_connect_timeout=1, decode_responses=True)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _parallel(jobs: list[Any]) -> float:
    """Run the callables in threads at once; the wall seconds until all are done."""
    import threading

    threads = [threading.Thread(target=job) for job in jobs]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def _throughput(targets: list[str], pending: int, calls: int, now: int,
                pids: dict[str, int]) -> tuple[dict[str, float], bool]:
    """Runs/s (RegisterRuns of 1000) and events/s (PublishEvents of 100), one client
    thread per replica, each on its own share of the runs; and CPU % per process."""
    from server.client import Client

    clients = [Client(t, env=ENV) for t in targets]
    share = pending // len(targets)
    runs_wall = _parallel([
        lambda k=k: register(clients[k], k * share, (k + 1) * share, 1000, now)
        for k in range(len(targets))])
    # Untimed: each replica's first publish loads the bucket or replays the other
    # replicas' registrations (a one-off; the rows below are the steady state).
    nobody = [{"name": "tasks/reminder.deleted", "data": {"reminderId": "nobody"}}]
    warm_wall = _parallel([lambda c=c: c.publish(nobody) for c in clients])
    oks: list[bool] = []

    def publish(k: int) -> None:
        events = _Events(share)
        events.fresh = [k * share + i for i in events.fresh]
        oks.append(_publish(clients[k], events, 100, calls, now)[1])

    before = {name: _cpu_s(pid) for name, pid in pids.items()}
    wall = _parallel([lambda k=k: publish(k) for k in range(len(targets))])
    cpu = {f"CPU % during publish, {name}": 100 * (_cpu_s(pid) - before[name]) / wall
           for name, pid in pids.items()}
    for c in clients:
        c.close()
    return {"runs/s, RegisterRuns batches of 1000": share * len(targets) / runs_wall,
            "first publish after them (load or catch-up), s": warm_wall,
            "events/s, PublishEvents batches of 100": 100 * calls * len(targets) / wall,
            **cpu}, all(oks)


def _store_config(store: str, label: str, replicas: int, pending: int, calls: int,
                  redis_pid: int | None) -> tuple[dict[str, float], bool]:
    now = int(time.time() * 1000)
    with tempfile.TemporaryDirectory(prefix="cancelmatch-bench-scale-") as tmp:
        servers = [ServerProcess(Path(tmp) / f"r{i}", store) for i in range(replicas)]
        try:
            pids = {f"replica {i + 1}": s.proc.pid for i, s in enumerate(servers)}
            if redis_pid is not None:
                pids["redis-server"] = redis_pid
            pids["client (this process)"] = os.getpid()
            rows, ok = _throughput([s.target for s in servers], pending, calls, now, pids)
        finally:
            for s in servers:
                s.stop()
    return {f"{k} — {label}": v for k, v in rows.items()}, ok


def _round_trips(url: str) -> dict[str, float]:
    """Round trips per warm batch, counted on the wire with a counting connection."""
    import redis

    from server.config import Config
    from server.engine import Engine
    from server.store import window_for
    from server.store._redis import RedisStore, connect

    sent = [0]

    class Counting(redis.Connection):
        def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            sent[0] += 1
            super().send_packed_command(command, check_health)

    config = Config(store=url)
    engine = Engine(config, RedisStore(connect(url, connection_class=Counting),
                                       window_for(config), config, url))
    now = int(time.time() * 1000)
    rows: dict[str, float] = {}
    base = 10_000_000
    for size, batch in (("warm-up", 10), ("RegisterRuns of 1000", 1000)):
        sent[0] = 0
        engine.register_runs([_run_request_model(base + i, now) for i in range(batch)])
        rows[f"Redis round trips per {size}"] = sent[0]
        base += batch
    for size in (100, 1000):
        sent[0] = 0
        engine.publish_events(ENV, [_event_model(f"rem_{base - 1000 + i}" if i % 10 == 0
                                                 else f"none_{i}", now) for i in range(size)])
        rows[f"Redis round trips per PublishEvents of {size} (10 % cancel)"] = sent[0]
    del rows["Redis round trips per warm-up"]
    engine.close()
    return rows


def _run_request_model(i: int, now: int) -> Any:
    import json

    from server._model import Event, Rule, RunRequest

    return RunRequest(ENV, "bench", "send-reminder", ulid(now, i), now - 60_000,
                      Event("", "tasks/reminder.created", 0,
                            json.dumps({"reminderId": f"rem_{i}"})),
                      tuple(Rule(**r) for r in _RULES))


def _event_model(reminder: str, now: int) -> Any:
    import json

    from server._model import Event

    return Event("", "tasks/reminder.deleted", now, json.dumps({"reminderId": reminder}))


def _memory_per_listener(redis_proc: RedisProcess, n: int) -> dict[str, float]:
    """used_memory growth per pending listener, and MEMORY USAGE of sampled keys; with
    Redis's default ``hash-max-listpack-value`` (64) and with 512, which keeps run hashes
    in the compact encoding (an operator setting the README recommends)."""
    from server.store._redis_keys import function_key, key

    rows: dict[str, float] = {}
    c = redis_proc.client()
    for limit in (64, 512):
        c.flushall()
        c.config_set("hash-max-listpack-value", limit)
        before = int(c.info("memory")["used_memory"])
        _fill(redis_proc.url, "memory", n)
        grown = int(c.info("memory")["used_memory"]) - before
        runs = list(c.hscan(key("memory", "bucket", "tasks/reminder.deleted"), count=200)[1])
        runs = runs[:100]
        run_bytes = sum(c.memory_usage(key("memory", "run", r)) or 0 for r in runs)
        shared = {kind: (c.memory_usage(key("memory", kind, part)) or 0) / n
                  for kind, part in (("bucket", "tasks/reminder.deleted"), ("expiry", ""),
                                     ("pending_by_function",
                                      function_key("bench", "send-reminder")),
                                     ("log", "tasks/reminder.deleted"))}
        where = f"hash-max-listpack-value {limit}"
        rows[f"Redis bytes per pending listener, used_memory growth ({where})"] = grown / n
        rows[f"  run hash, MEMORY USAGE of 100 ({where})"] = run_bytes / len(runs)
        rows.update({f"  {k}, MEMORY USAGE / listeners ({where})": v for k, v in shared.items()})
    c.config_set("hash-max-listpack-value", 64)
    c.close()
    return rows


def _fill(url: str, env: str, n: int) -> float:
    """Store ``n`` runs with one reminder listener each straight through the store (the
    engine's index is not the thing measured here); returns runs/s."""
    from server._model import Event, Rule
    from server.config import Config
    from server.store import ListenerRow, NewRun, open_store

    store = open_store(Config(store=url))
    now = int(time.time() * 1000)
    rules = tuple(Rule(**r) for r in _RULES)
    row = (ListenerRow(0, "tasks/reminder.deleted",
                       "event.data.reminderId == async.data.reminderId", now + 86_400_000),)
    t0 = time.perf_counter()
    for lo in range(0, n, 1000):
        store.register(env, [NewRun(ulid(now, i), "bench", "send-reminder", now - 60_000,
                                    Event(ulid(now - 60_000, i), "tasks/reminder.created",
                                          now - 60_000, f'{{"reminderId": "rem_{i}"}}'),
                                    rules, "fp", row) for i in range(lo, min(n, lo + 1000))],
                       now, {})
    store.close()
    return n / (time.perf_counter() - t0)


def _warm_up(redis_proc: RedisProcess, n: int) -> dict[str, float]:
    """A cold replica's first event on a bucket of ``n`` listeners (it loads the bucket),
    while a client publishes to another environment every 20 ms."""
    import threading

    from server.client import Client

    env = f"warm{n}"
    _fill(redis_proc.url, env, n)
    with tempfile.TemporaryDirectory(prefix="cancelmatch-bench-warm-") as tmp:
        child = ServerProcess(Path(tmp), redis_proc.url)
        try:
            other: list[float] = []
            done = threading.Event()

            def elsewhere() -> None:
                with Client(child.target, env="elsewhere") as c:
                    while not done.is_set():
                        t0 = time.perf_counter()
                        c.publish([{"name": "x/y", "data": {}}])
                        other.append(time.perf_counter() - t0)
                        time.sleep(0.02)

            side = threading.Thread(target=elsewhere)
            side.start()
            time.sleep(0.2)
            with Client(child.target, env=env, timeout=600) as c:
                t0 = time.perf_counter()
                out = c.publish([{"name": "tasks/reminder.deleted",
                                  "data": {"reminderId": "rem_7"}}])
                first = time.perf_counter() - t0
            done.set()
            side.join()
        finally:
            child.stop()
    assert len(out.decisions) == 1
    return {f"cold bucket of {n:,}: first event (warm-up included), s": first,
            f"cold bucket of {n:,}: listeners/s loaded": n / first,
            f"cold bucket of {n:,}: slowest publish of another env meanwhile, ms":
                1000 * max(other, default=0.0)}


def run_scale_out(*, quick: bool) -> dict[str, Any]:
    """Issue 10's measurements (see the module docstring); rows keyed by description."""
    pending, calls = (2_000, 5) if quick else (100_000, 100)
    rows: dict[str, Any] = {}
    checks: dict[str, bool] = {}
    try:
        folder = Path(tempfile.mkdtemp(prefix="cancelmatch-bench-redis-"))
        redis_proc = RedisProcess(folder)
    except FileNotFoundError as exc:
        return {"rows": {"scale out": f"skipped: {exc}"}, "checks": {}}
    try:
        for store, label, n, pid in (
                ("sqlite", "SQLite node (FULL)", 1, None),
                (redis_proc.url, "Redis, 1 replica (AOF everysec)", 1, redis_proc.proc.pid),
                (redis_proc.url, "Redis, 2 replicas (AOF everysec)", 2, redis_proc.proc.pid)):
            redis_proc.client().flushall()
            got, ok = _store_config(store, label, n, pending, calls, pid)
            rows.update(got)
            checks[f"decisions, {label}"] = ok
        rows.update(_round_trips(redis_proc.url))
        rows.update(_memory_per_listener(redis_proc, 2_000 if quick else 100_000))
        for n in ((10_000,) if quick else (100_000, 1_000_000)):
            redis_proc.client().flushall()
            rows.update(_warm_up(redis_proc, n))
    finally:
        redis_proc.stop()
    return {"rows": rows, "checks": checks}


if __name__ == "__main__":
    if len(sys.argv) in (3, 4) and sys.argv[1] == "serve":
        raise SystemExit(_serve(*sys.argv[2:]))
    if len(sys.argv) in (2, 3) and sys.argv[1] == "scaleout":
        import json

        result = run_scale_out(quick=sys.argv[2:] == ["--quick"])
        print(json.dumps(result, indent=1))
        raise SystemExit(0)
    raise SystemExit("usage: python -m bench.service serve DATA_DIR [STORE] | scaleout "
                     "[--quick]   (issue 9's numbers: python -m bench.service_isolation)")
