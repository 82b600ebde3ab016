"""Timing: per-event latency sampling under a time budget, and the statistics we report."""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Sample:
    """Per-call latencies in nanoseconds and what each call returned."""

    latencies_ns: list[int] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.latencies_ns)

    def median_us(self) -> float:
        return percentile(self.latencies_ns, 50) / 1000.0

    def p99_us(self) -> float:
        return percentile(self.latencies_ns, 99) / 1000.0


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (so p99 of fewer than 100 samples is the maximum)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return float(ordered[rank - 1])


def time_calls(
    fn: Callable[[Any], Any],
    inputs: Sequence[Any],
    *,
    budget_s: float,
    min_calls: int = 3,
    collect: bool = True,
) -> Sample:
    """Call ``fn`` on successive inputs (cycling) until all were used or the budget is spent,
    but at least ``min_calls`` times. Unless ``collect`` is false a full collection runs first,
    so that garbage from the set-up is not charged to the first calls; the collector stays
    enabled while timing."""
    if collect:
        gc.collect()
    sample = Sample()
    clock = time.perf_counter_ns
    deadline = clock() + int(budget_s * 1e9)
    n_inputs = len(inputs)
    i = 0
    while i < n_inputs or i < min_calls:
        x = inputs[i % n_inputs]
        t0 = clock()
        r = fn(x)
        t1 = clock()
        sample.latencies_ns.append(t1 - t0)
        sample.results.append(r)
        i += 1
        if t1 > deadline and i >= min_calls:
            break
    return sample
