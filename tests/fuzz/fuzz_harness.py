"""Fuzz harness: budgets, per-surface counts, and the "still healthy" check of a live server.

Scale and seed come from the environment so CI and long local runs share one code path:
``CANCELMATCH_FUZZ_SCALE`` multiplies every input count (CI: 1), ``CANCELMATCH_FUZZ_SEED``
picks the inputs (CI: 0, the same inputs on every run; a failure message names the seed
and the input index, so any finding replays with the same two numbers).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCALE = float(os.environ.get("CANCELMATCH_FUZZ_SCALE", "1"))
SEED = int(os.environ.get("CANCELMATCH_FUZZ_SEED", "0"))
ANSWER_WITHIN_S = 30.0
"""Liveness bound for one request (a property, not a performance assertion)."""
RSS_LIMIT_BYTES = 1536 * 1024 * 1024
"""The server's resident memory after a surface: far above its ~100 MB working set, far
below what an unbounded allocation (issue 9's 2.1 GB evaluation) reaches."""
WORKERS = 4


def inputs(n: int) -> int:
    return max(1, int(n * SCALE))


def rng_for(surface: str, index: int) -> random.Random:
    """The generator of one input: reproducible from (SEED, surface, index)."""
    return random.Random(f"{SEED}/{surface}/{index}")


@dataclass
class Surface:
    """What one surface sent and got back."""

    name: str
    sent: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    def record(self, outcome: str, failure: str | None = None) -> None:
        self.sent += 1
        self.outcomes[outcome] += 1
        if failure is not None and len(self.failures) < 20:
            self.failures.append(failure)

    def summary(self) -> dict[str, Any]:
        return {"inputs": self.sent, "seconds": round(self.seconds, 1), "seed": SEED,
                "outcomes": dict(self.outcomes.most_common()), **self.notes}


SURFACES: dict[str, Surface] = {}


def surface(name: str) -> Surface:
    return SURFACES.setdefault(name, Surface(name))


def run_inputs(s: Surface, count: int, make: Callable[[random.Random], Any],
               send: Callable[[Any], tuple[str, str | None]],
               workers: int = WORKERS) -> None:
    """Generate ``count`` inputs (in order, in this thread: reproducible) and send them
    ``workers`` at a time; ``send`` returns (outcome, failure description or None)."""
    started = time.perf_counter()

    def one(item: tuple[int, Any]) -> tuple[int, str, str | None]:
        index, payload = item
        t0 = time.perf_counter()
        outcome, failure = send(payload)
        took = time.perf_counter() - t0
        if failure is None and took > ANSWER_WITHIN_S:
            failure = f"no answer within {ANSWER_WITHIN_S} s ({took:.1f} s)"
        return index, outcome, failure

    def finish(f: Future[tuple[int, str, str | None]]) -> None:
        index, outcome, failure = f.result()
        s.record(outcome, None if failure is None else f"seed {SEED} input {index}: {failure}")

    # At most 2 x workers inputs exist at once: some are megabytes.
    in_flight: deque[Future[tuple[int, str, str | None]]] = deque()
    with ThreadPoolExecutor(workers) as pool:
        for index in range(count):
            if len(in_flight) >= 2 * workers:
                finish(in_flight.popleft())
            in_flight.append(pool.submit(one, (index, make(rng_for(s.name, index)))))
        while in_flight:
            finish(in_flight.popleft())
    s.seconds += time.perf_counter() - started


def write_record(path: Path) -> None:
    """The per-surface counts of this run, as JSON (CI keeps it with the test log)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({n: s.summary() for n, s in SURFACES.items()}, indent=2))


def shorten(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"
