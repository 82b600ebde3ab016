"""Real Redis for the tests: redis-server processes on free loopback ports, in temp dirs.

Never the shared Redis on 6379. One standalone server and one 3-master Cluster (made with
``redis-cli --cluster create``) per test session, started on first use and killed at exit;
tests isolate themselves with FLUSHALL. Without a ``redis-server`` binary the Redis tests
skip with a message saying what to install — except under ``CI=true``, where that is a
failure (CI must run them).
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import redis

INSTALL = ("redis-server and redis-cli (Redis >= 7.0) are needed for the Redis store tests: "
           "install Redis, e.g. `apt-get install redis-server` or `brew install redis`")


def binaries() -> tuple[str, str]:
    """(redis-server, redis-cli) from PATH, or skip (fail under CI=true) naming them."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server is None or cli is None:
        if os.environ.get("CI") == "true":
            pytest.fail(INSTALL + " (CI=true: this is a failure, not a skip)")
        pytest.skip(INSTALL)
    return server, cli


def free_port(bus: bool = False) -> int:
    """A free loopback port (and port + 10000, the Cluster bus, when ``bus``)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port == 6379 or port > 55000:
            continue
        if not bus:
            return port
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port pair found")


class RedisServer:
    """One redis-server process; ``stop`` / ``start`` keep its port and data folder."""

    def __init__(self, folder: Path, *, cluster: bool = False, appendonly: str = "no") -> None:
        self.server, self.cli = binaries()
        self.folder = folder
        self.cluster = cluster
        self.appendonly = appendonly
        self.port = free_port(bus=cluster)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        args = [self.server, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.folder), "--save", "", "--logfile", "redis.log",
                "--appendonly", "yes" if self.appendonly != "no" else "no"]
        if self.appendonly != "no":
            args += ["--appendfsync", self.appendonly]
        if self.cluster:
            args += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                     "--cluster-node-timeout", "2000"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # a liveness bound
            c = self.client()
            try:
                if c.ping():
                    return self
            except redis.ConnectionError:
                time.sleep(0.02)
            finally:
                c.close()
        raise RuntimeError(f"redis-server on {self.port} did not start: "
                           f"{(self.folder / 'redis.log').read_text()[-2000:]}")

    def client(self) -> Any:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)

    def stop(self) -> None:
        """kill -9: the process is gone at once (what a crash or a lost host looks like)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def flush(self) -> None:
        c = self.client()
        c.flushall()
        c.close()


class RedisClusterProcesses:
    """Three masters, no replicas: ``redis-cli --cluster create ... --cluster-yes``."""

    def __init__(self, folder: Path) -> None:
        self.nodes = [RedisServer(folder / f"node{i}", cluster=True) for i in range(3)]

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def start(self) -> RedisClusterProcesses:
        for node in self.nodes:
            node.start()
        cli = self.nodes[0].cli
        subprocess.run([cli, "--cluster", "create",
                        *(f"127.0.0.1:{n.port}" for n in self.nodes),
                        "--cluster-replicas", "0", "--cluster-yes"],
                       check=True, capture_output=True, timeout=60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if all(b"cluster_state:ok" in _info(n) for n in self.nodes):
                return self
            time.sleep(0.1)
        raise RuntimeError("the Redis Cluster did not reach cluster_state:ok")

    def flush(self) -> None:
        for node in self.nodes:
            node.flush()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def _info(node: RedisServer) -> bytes:
    c = node.client()
    try:
        return bytes(c.execute_command("CLUSTER", "INFO"))
    finally:
        c.close()


_SHARED: dict[str, Any] = {}


def _cleanup() -> None:
    for thing in _SHARED.values():
        thing.stop()
    for folder in _FOLDERS:
        shutil.rmtree(folder, ignore_errors=True)


_FOLDERS: list[str] = []
atexit.register(_cleanup)


def shared(kind: str) -> Any:
    """The session's standalone server ("redis") or Cluster ("cluster"), started once."""
    binaries()
    if kind not in _SHARED:
        folder = tempfile.mkdtemp(prefix=f"cm-{kind}-")
        _FOLDERS.append(folder)
        thing = (RedisServer(Path(folder)) if kind == "redis"
                 else RedisClusterProcesses(Path(folder)))
        _SHARED[kind] = thing
        thing.start()
    return _SHARED[kind]
