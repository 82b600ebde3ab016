"""End to end, scaled out: several real `cancelmatch serve` processes on one Redis or on a
3-master Redis Cluster. Register on one, publish on another, watch and ack on a third;
replicas racing; a replica killed with -9 under load; Redis itself going away."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import grpc
import pytest
import redis_support
from test_e2e import _deleted, _now, _run

from server._proto import cancelmatch_pb2 as pb
from server._timeouts import format_rfc3339
from server.client import Client

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["redis", "cluster"])
def redis_url(request: pytest.FixtureRequest) -> str:
    server = redis_support.shared(request.param)
    server.flush()
    return str(server.url)


def _replicas(server_factory: Any, tmp_path: Path, url: str, n: int) -> list[Any]:
    return [server_factory("--store", url, data_dir=tmp_path / f"replica{i}") for i in range(n)]


def _drain(stream: Any, want: int, limit_s: float = 60) -> list[pb.Decision]:
    """Read ``want`` decisions from a watch stream (a liveness bound, then give up)."""
    got: list[pb.Decision] = []
    done = threading.Event()

    def read() -> None:
        try:
            for d in stream:
                got.append(d)
                if len(got) >= want:
                    break
        except grpc.RpcError:
            pass
        done.set()

    threading.Thread(target=read, daemon=True).start()
    done.wait(limit_s)
    stream.cancel()
    return got


def test_register_on_a_publish_on_b_watch_and_ack_on_c(server_factory: Any, tmp_path: Path,
                                                       redis_url: str) -> None:
    a, b, c = _replicas(server_factory, tmp_path, redis_url, 3)
    with Client(a.target, env="prod") as ca, Client(b.target, env="prod") as cb, \
            Client(c.target, env="prod") as cc:
        runs = [_run(f"r{i}") for i in range(3)]
        assert all(r.status == pb.RUN_STATUS_REGISTERED
                   for r in ca.register_runs(runs).results)
        stream = cc.watch()
        (d1,) = cb.publish([_deleted("r1")]).decisions
        assert d1.run_id == runs[1]["run_id"]
        assert [d.decision_id for d in _drain(stream, 1)] == [d1.decision_id]
        assert cc.ack([d1.decision_id]) == 1
        (d2,) = ca.publish([_deleted("r2")]).decisions
        replay = _drain(cb.watch(), 1)  # b replays only what nobody acknowledged
        assert [d.decision_id for d in replay] == [d2.decision_id]
        # an event accepted by b just before a registration on c: the late check finds it
        early = cb.publish([_deleted("late")]).decisions
        assert early == []
        res = cc.register_run(**_run("late"))
        assert res.status == pb.RUN_STATUS_CANCELLED


def test_three_replicas_racing_cancel_each_run_once(server_factory: Any, tmp_path: Path,
                                                    redis_url: str) -> None:
    replicas = _replicas(server_factory, tmp_path, redis_url, 3)
    runs = [_run(f"r{i}") for i in range(120)]
    with Client(replicas[0].target, env="prod") as c:
        c.register_runs(runs)
    decided: list[list[str]] = [[] for _ in replicas]
    barrier = threading.Barrier(3)

    def publish(k: int) -> None:
        with Client(replicas[k].target, env="prod") as client:
            barrier.wait(30)
            for i in range(0, 120, 10):
                out = client.publish([_deleted(f"r{j}") for j in range(i, i + 10)])
                decided[k] += [d.run_id for d in out.decisions]

    threads = [threading.Thread(target=publish, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    all_decided = [r for d in decided for r in d]
    assert sorted(all_decided) == sorted(r["run_id"] for r in runs)
    with Client(replicas[2].target, env="prod") as c:
        stored = _drain(c.watch(), 120)
    assert sorted(d.run_id for d in stored) == sorted(all_decided)  # one decision each


class _Loader:
    """Registers runs and publishes their cancel events on replicas, retrying a failed
    call on the next replica (as a runner would), and records what was acknowledged."""

    def __init__(self, targets: list[str], runs: int) -> None:
        self.targets = targets
        self.runs = [_run(f"k{i}") for i in range(runs)]
        self.registered: set[str] = set()  # run ids whose registration returned OK
        self.published: set[str] = set()  # run ids whose cancel event was accepted
        self.in_responses: dict[str, set[str]] = {}  # run id → decision ids seen
        self.retries = 0

    def _call(self, k: int, fn: Any) -> Any:
        for attempt in range(40):
            target = self.targets[(k + attempt) % len(self.targets)]
            try:
                with Client(target, env="prod", timeout=10) as c:
                    return fn(c)
            except grpc.RpcError:
                self.retries += 1
                time.sleep(0.05)
        raise AssertionError("no replica answered")

    def run(self) -> None:
        for i in range(0, len(self.runs), 10):
            batch = self.runs[i:i + 10]
            self._call(i // 10, lambda c, batch=batch: c.register_runs(batch))
            self.registered.update(r["run_id"] for r in batch)
            if i >= 20:  # cancel the batch registered two batches ago
                names = [r["trigger"]["data"]["reminderId"] for r in self.runs[i - 20:i - 10]]
                out = self._call(i // 10 + 1,
                                 lambda c, names=names: c.publish([_deleted(n) for n in names]))
                self.published.update(r["run_id"] for r in self.runs[i - 20:i - 10])
                for d in out.decisions:
                    self.in_responses.setdefault(d.run_id, set()).add(d.decision_id)


def test_kill_9_of_a_replica_under_load_loses_nothing(server_factory: Any, tmp_path: Path,
                                                      redis_url: str) -> None:
    replicas = _replicas(server_factory, tmp_path, redis_url, 3)
    loader = _Loader([r.target for r in replicas[:2]], runs=400)
    watched: dict[str, set[str]] = {}
    with Client(replicas[2].target, env="prod") as watcher:
        stream = watcher.watch()
        reader = threading.Thread(target=lambda: [
            watched.setdefault(d.run_id, set()).add(d.decision_id) for d in _safe(stream)],
            daemon=True)
        reader.start()
        load = threading.Thread(target=loader.run)
        load.start()
        while len(loader.registered) < 120 and load.is_alive():
            time.sleep(0.01)
        replicas[0].kill9()  # mid-load: calls in flight on it fail and are retried
        load.join(300)
        assert not load.is_alive()
        deadline = time.monotonic() + 60  # liveness bound for the watcher to catch up
        while set(watched) < loader.published and time.monotonic() < deadline:
            time.sleep(0.05)
        stream.cancel()
    survivor = replicas[1].target
    with Client(survivor, env="prod") as c:
        again = c.register_runs([r for r in loader.runs if r["run_id"] in loader.registered])
    lost = [r.run_id for r in again.results if r.status == pb.RUN_STATUS_REGISTERED]
    duplicates = {run: ids for run, ids in watched.items() if len(ids) > 1}
    missing = loader.published - set(watched)
    assert (len(lost), len(missing), len(duplicates)) == (0, 0, 0), (lost, missing, duplicates)
    assert loader.retries > 0  # the kill really hit calls in flight or queued for it
    for run, ids in loader.in_responses.items():  # what callers were told is what was kept
        assert ids == watched[run]


def _safe(stream: Any) -> Any:
    try:
        yield from stream
    except grpc.RpcError:
        return


def test_redis_stopped_and_restarted_under_a_running_replica(server_factory: Any,
                                                             tmp_path: Path) -> None:
    redis_server = redis_support.RedisServer(tmp_path / "redis", appendonly="always").start()
    try:
        srv = server_factory("--store", redis_server.url, data_dir=tmp_path / "replica")
        with Client(srv.target, env="prod") as c:
            run = _run("r1")
            assert c.register_run(**run).status == pb.RUN_STATUS_REGISTERED
            redis_server.stop()
            started = time.monotonic()
            with pytest.raises(grpc.RpcError) as err:
                c.publish([_deleted("r1")])
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "Redis at redis://127.0.0.1" in err.value.details()
            assert time.monotonic() - started < 10  # fails fast (a liveness bound)
            assert _rest_status(srv, "prod") == 503
            redis_server.start()  # same port and folder: the AOF brings the data back
            deadline = time.monotonic() + 30
            while True:
                try:
                    (d,) = c.publish([_deleted("r1")]).decisions
                    break
                except grpc.RpcError:
                    assert time.monotonic() < deadline
                    time.sleep(0.1)
            assert d.run_id == run["run_id"]
            assert _rest_status(srv, "prod") == 200
    finally:
        redis_server.stop()


def _rest_status(srv: Any, env: str) -> int:
    url = f"http://127.0.0.1:{srv.http_port}/v1/cancellations"
    req = urllib.request.Request(url, headers={"X-Inngest-Env": env})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            json.loads(resp.read())
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


def test_bulk_cancellation_over_rest_on_one_replica_reaches_a_watcher_on_another(
        server_factory: Any, tmp_path: Path, redis_url: str) -> None:
    a, b = _replicas(server_factory, tmp_path, redis_url, 2)
    with Client(a.target, env="prod") as ca:
        run = _run("r1")
        ca.register_run(**run)
    body = json.dumps({"app_id": "reminders", "function_id": "send-reminder",
                       "started_before": format_rfc3339(_now() - 1)}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{b.http_port}/v1/cancellations", body,
                                 {"Content-Type": "application/json", "X-Inngest-Env": "prod"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        created = json.loads(resp.read())["data"]
    with Client(a.target, env="prod") as ca:
        (d,) = _drain(ca.watch(), 1)
    assert d.run_id == run["run_id"] and d.cancellation_id == created["id"]
