"""Fixtures for the service tests: an in-memory engine with a settable clock, and real
server processes on 127.0.0.1 that are always stopped at teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis_support
from server_support import Clock, ServerProcess, make_engine

from server.config import Config
from server.engine import Engine
from server.grpc_server import Service, build_server


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(clock: Clock) -> Iterator[Engine]:
    eng = make_engine(":memory:", clock)
    yield eng
    eng.close()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[ServerProcess] = []

    def start(*args: str, data_dir: Path | None = None,
              env: dict[str, str] | None = None) -> ServerProcess:
        srv = ServerProcess(data_dir or tmp_path / "data", *args, env=env)
        started.append(srv)
        return srv.start()

    yield start
    for srv in started:
        srv.cleanup()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """An in-process server (gRPC + HTTP) on free ports, with its store in tmp_path/data."""
    svc = build_server(Config(data_dir=tmp_path / "data", grpc_port=0, http_port=0, grace_s=1))
    yield svc
    svc.stop()


STORES = ("sqlite", "redis", "cluster")
"""Every store the engine runs on: the parity tests run once per store."""


@pytest.fixture(params=STORES)
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty store: a SQLite file, or a flushed session Redis / Redis Cluster."""
    if request.param == "sqlite":
        return str(tmp_path / "db.sqlite3")
    server = redis_support.shared(request.param)
    server.flush()
    return str(server.url)


@pytest.fixture
def engine_factory(store_target: str, clock: Clock) -> Iterator[Callable[..., Engine]]:
    """``make(**config)``: an engine on this test's store (again = a restart or a second
    replica); every engine made is closed at teardown."""
    made: list[Engine] = []

    def make(**config: Any) -> Engine:
        made.append(make_engine(store_target, clock, **config))
        return made[-1]

    yield make
    for eng in made:
        eng.close()
