"""Cache sweep: what one hash lookup costs as the table grows, with no index code involved.

The index answers an equality event with a fixed number of operations whatever the number of
pending listeners: one dict probe per indexed path, a few attribute reads on each candidate.
What still grows from 1k to 1M listeners is where those operations land: a 1M-entry dict and
a million listener records no longer fit in the CPU caches (nor their pages in the TLB), so
each probe and each read of a record waits on memory. This study measures that floor on the
same machine: a plain ``dict`` of N string keys to small slotted records (like the index's
equality table), probed with keys of existing entries in random order, reading three fields
of the record found — the index's per-candidate memory traffic without its logic.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from typing import Any


class _Record:
    __slots__ = ("a", "b", "c", "d", "e", "f", "g", "h", "i")

    def __init__(self, i: int) -> None:
        self.a = self.b = self.c = i
        self.d = self.e = self.f = self.g = self.h = self.i = None


def _probe_ns(table: dict[str, _Record], keys: list[str], repeats: int) -> float:
    """Median over ``repeats`` passes of the mean ns per probe (+ three field reads)."""
    get = table.get
    per_pass = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        for k in keys:
            r = get(k)
            r.a, r.b, r.c  # noqa: B018  (the reads are the point)
        per_pass.append((time.perf_counter_ns() - t0) / len(keys))
    return statistics.median(per_pass)


def run_cache_sweep(sizes: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000),
                    probes: int = 20_000, repeats: int = 7, seed: int = 1) -> dict[str, Any]:
    """ns per probe at each size, and the growth from the smallest to the largest."""
    rng = random.Random(seed)
    rows = []
    for n in sizes:
        table = {f"rem_{i:08d}": _Record(i) for i in range(n)}
        keys = [f"rem_{rng.randrange(n):08d}" for _ in range(probes)]  # fresh key objects
        gc.collect()
        rows.append({"n": n, "ns_per_probe": _probe_ns(table, keys, repeats)})
        del table, keys
    return {"rows": rows, "growth": rows[-1]["ns_per_probe"] / rows[0]["ns_per_probe"],
            "probes": probes, "repeats": repeats}
