"""Micro-benchmarks: ListenerIndex.add — the per-registration cost (target ≥ 100,000 adds/s).

The listener's arguments are built in pytest-benchmark's untimed setup, so only ``add`` is
timed: interpolating the trigger into an already-parsed rule and indexing the residual.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from bench.workloads import all_workloads

_WORKLOADS = {w.name: w for w in all_workloads()}


@pytest.mark.parametrize("name", ["equality", "eq_range", "in_list", "prefix"])
def test_add_listener(benchmark: Any, matcher_index: Any, name: str) -> None:
    workload = _WORKLOADS[name]
    index = matcher_index.ListenerIndex()
    positions = itertools.count()

    def setup() -> tuple[tuple[Any], dict[str, Any]]:
        return (workload.listener(next(positions)),), {}

    benchmark.group = "registration"
    result = benchmark.pedantic(
        lambda spec: spec.add_to(index), setup=setup, rounds=20_000, warmup_rounds=100
    )
    assert result.stored
    assert len(index) == next(positions)  # one pending listener per timed add
