"""Micro-benchmarks: the gRPC paths — PublishEvents in batches of 1/10/100, RegisterRun(s).

The server runs in a child process (see bench/service.py) with 10,000 runs pending (the
report uses 100,000). Events here cancel nothing, so the pending set stays the same size
while pytest-benchmark repeats them; each benchmark checks its response. Registration runs
first: each new listener is also tested against the recent events of its name (the
late-listener window), so registering right after a burst of events costs more.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import service

PENDING = 10_000


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    from server.client import Client

    with tempfile.TemporaryDirectory(prefix="cancelmatch-bench-svc-") as tmp:
        child = service.ServerProcess(Path(tmp))
        try:
            with Client(child.target, env=service.ENV) as c:
                now = int(time.time() * 1000)
                service.register(c, 0, PENDING, 1000, now)
                c.now = now  # type: ignore[attr-defined]
                yield c
        finally:
            child.stop()


@pytest.mark.parametrize("batch", [1, 100])
def test_register_runs(benchmark: Any, client: Any, batch: int) -> None:
    start = itertools.count(PENDING + 1_000_000 * batch, batch)

    def register() -> int:
        lo = next(start)
        service.register(client, lo, lo + batch, batch, client.now)
        return lo

    benchmark.group = "service registration"
    benchmark.pedantic(register, rounds=50 if batch == 1 else 10, iterations=1)
    again = client.register_run(**service.run_request(PENDING - 1, client.now))
    status = again.DESCRIPTOR.fields_by_name["status"].enum_type.values_by_number[again.status]
    assert status.name == "RUN_STATUS_ALREADY_REGISTERED"


@pytest.mark.parametrize("batch", [1, 10, 100])
def test_publish_events(benchmark: Any, client: Any, batch: int) -> None:
    counter = itertools.count()

    def publish() -> Any:
        k = next(counter)
        return client.publish([{"name": "tasks/reminder.deleted",
                                "data": {"reminderId": f"rem_none_{k}_{i}"}} for i in range(batch)])

    benchmark.group = "service publish"
    response = benchmark(publish)
    assert len(response.event_ids) == batch and not response.decisions
