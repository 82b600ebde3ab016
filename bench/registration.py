"""Registration: listener adds per second and resident memory per pending listener.

Run in a fresh interpreter (``python -m bench.registration``; the report does so) so that
memory freed by earlier stages cannot be reused and hide the index's real footprint. The
arguments of each chunk of adds are built untimed, then released; what stays resident after
a full collection is what the index holds (with the id and key strings it keeps per listener).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._machine import rss_bytes
from bench.workloads import all_workloads

CHUNK = 10_000


def measure(sizes: list[int]) -> list[dict[str, Any]]:
    """Grow one index of pure-equality listeners through ``sizes``; one row per size."""
    import matcher

    workload = all_workloads()[0]
    gc.collect()
    index = matcher.ListenerIndex()
    base = rss_bytes()
    added, seconds, rows = 0, 0.0, []
    for size in sorted(sizes):
        while added < size:
            chunk = workload.listeners(added, min(size, added + CHUNK))
            t0 = time.perf_counter()
            for spec in chunk:
                spec.add_to(index)
            seconds += time.perf_counter() - t0
            added += len(chunk)
            del chunk
        gc.collect()
        delta = rss_bytes() - base
        rows.append(
            {
                "n": added,
                "pending": len(index),
                "adds_per_s": added / seconds,
                "rss_delta_bytes": delta,
                "bytes_per_listener": delta / added,
            }
        )
    return rows


def measure_in_subprocess(sizes: list[int], timeout_s: float = 900) -> list[dict[str, Any]]:
    """``measure`` in a fresh interpreter; raises RuntimeError with its stderr on failure."""
    cmd = [sys.executable, "-m", "bench.registration", "--sizes", ",".join(map(str, sizes))]
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
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    json.dump(measure(sizes), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
