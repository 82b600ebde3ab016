"""Micro-benchmarks: ListenerIndex.match per event at 1k / 10k / 100k pending listeners.

The six workloads of the scaling study (bench/workloads.py); the 1M point is measured only by
the report (``python -m bench``). Each benchmark first checks a few answers against a linear
scan with our compiled programs.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from bench.baselines import OurScan
from bench.workloads import ENV, Workload, all_workloads

SIZES = (1_000, 10_000, 100_000)
_WORKLOADS = {w.name: w for w in all_workloads()}
_built: dict[str, Any] = {}


def _index(matcher: Any, workload: Workload, n: int) -> Any:
    """The workload's index grown to n listeners (reused across sizes of one workload)."""
    if _built.get("name") != workload.name:
        _built.clear()
        _built.update(name=workload.name, index=matcher.ListenerIndex(), specs=[])
    index, specs = _built["index"], _built["specs"]
    new = workload.listeners(len(specs), n)
    for spec in new:
        assert spec.add_to(index).stored, spec
    specs.extend(new)
    return index


@pytest.mark.parametrize("n", SIZES, ids=lambda n: f"{n // 1000}k")
@pytest.mark.parametrize("name", list(_WORKLOADS))
def test_index_match(benchmark: Any, matcher_index: Any, name: str, n: int) -> None:
    workload = _WORKLOADS[name]
    index = _index(matcher_index, workload, n)
    events = workload.events(seed=7, n_pending=n, count=200)
    if n <= 10_000:  # a linear scan of 100k per event would dominate the run
        scan = OurScan()
        for spec in _built["specs"]:
            scan.add(spec)
        for event in events[:5]:
            assert {m.run_id for m in index.match(event, env=ENV)} == scan.match(event)
    benchmark.group = f"index match {name}"
    cycle = itertools.cycle(events)
    benchmark(lambda: index.match(next(cycle), env=ENV))
