"""Registration: listener adds per second and memory per pending listener, two ways.

Run in a fresh interpreter (``python -m bench.registration``; the report does so) so that
memory freed by earlier stages cannot be reused and hide the index's real footprint. The
arguments of each chunk of adds are built untimed, then released; what stays after a full
collection is what the index holds (with the id and key strings it keeps per listener).
Memory is measured as the RSS delta and, in a separate interpreter (tracing slows adds
threefold, so adds/s come from the RSS run only), as the bytes tracemalloc sees retained.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench._machine import rss_bytes
from bench.workloads import all_workloads

CHUNK = 10_000


def measure(sizes: list[int], workload: str = "equality",
            trace: bool = False) -> list[dict[str, Any]]:
    """Grow one index of ``workload`` listeners through ``sizes``; one row per size."""
    import matcher

    spec = {w.name: w for w in all_workloads()}[workload]
    if trace:
        tracemalloc.start()
    spec.listener(10**9).add_to(matcher.ListenerIndex())  # parse and plan the rule untimed
    gc.collect()
    index = matcher.ListenerIndex()
    base = _used(trace)
    added, seconds, rows = 0, 0.0, []
    for size in sorted(sizes):
        while added < size:
            chunk = spec.listeners(added, min(size, added + CHUNK))
            t0 = time.perf_counter()
            for one in chunk:
                one.add_to(index)
            seconds += time.perf_counter() - t0
            added += len(chunk)
            del chunk
        gc.collect()
        delta = _used(trace) - base
        rows.append({"workload": workload, "method": "tracemalloc" if trace else "rss",
                     "n": added, "pending": len(index), "adds_per_s": added / seconds,
                     "bytes_delta": delta, "bytes_per_listener": delta / added})
    return rows


def _used(trace: bool) -> int:
    return tracemalloc.get_traced_memory()[0] if trace else rss_bytes()


def measure_in_subprocess(sizes: list[int], workload: str = "equality", trace: bool = False,
                          timeout_s: float = 1800) -> list[dict[str, Any]]:
    """``measure`` in a fresh interpreter; raises RuntimeError with its stderr on failure."""
    cmd = [sys.executable, "-m", "bench.registration", "--sizes", ",".join(map(str, sizes)),
           "--workload", workload] + (["--tracemalloc"] if trace else [])
    root = str(Path(__file__).resolve().parent.parent)  # so that "bench" imports from anywhere
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), root) if p)
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout_s, check=False, env=env
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-2000:]}")
    rows: list[dict[str, Any]] = json.loads(proc.stdout)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.registration")
    parser.add_argument(
        "--sizes",
        default="1000,10000,100000,1000000",
        help="comma-separated listener counts (default %(default)s)",
    )
    parser.add_argument("--workload", default="equality", help="a bench workload name")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="measure retained bytes with tracemalloc instead of RSS")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    json.dump(measure(sizes, args.workload, args.tracemalloc), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
