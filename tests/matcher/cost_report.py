"""What the cost limits buy (not collected by pytest): run it to reproduce the figures.

    python tests/matcher/cost_report.py

For each kind of work the budget charges, an expression that spends the whole default
budget (or fails trying) on the largest input the service accepts (256 KiB of event data):
the time of one evaluation and the peak of what it allocates (tracemalloc). Then the most
expensive rule ``compile_rule`` still accepts: one registration whose trigger-only part
spends the whole budget, and one event against 1,000 listeners of it.
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import matcher  # noqa: E402

EVENT_BYTES = 256 * 1024


def big_event() -> dict[str, Any]:
    """Event data within 256 KiB of JSON, shaped for the expressions below."""
    return {"s": "x" * 50_000, "t": "x" * 50_000, "data": {  # 100 KB
        "l": [0] * 20_000,  # 40 KB of JSON
        "s": "x" * 60_000,  # 60 KB
        "nested": [[0] * 100 for _ in range(150)],  # 30 KB
        "e": "\U0001f600" * 5_000,  # 20 KB, four bytes per character in Python
    }}


WORKLOADS = {
    "loop, small body": "async.data.l.exists(x, x == -1)",
    "loop, 60-node body": "async.data.l.exists(x, " + " || ".join(["x == -1"] * 20) + ")",
    "nested loops": "async.data.l.exists(x, async.data.l.exists(y, x == y + 1))",
    "in over a list": "async.data.l.exists(x, -1 in async.data.l)",
    "list == list": "async.data.nested.exists(x, async.data.nested == async.data.nested)",
    "contains on 60k chars": "async.data.l.exists(x, async.data.s.contains('y'))",
    "matches on 60k chars": "async.data.l.exists(x, async.data.s.matches('y+$'))",
    "bytes() copies": "async.data.l.map(x, bytes(async.data.s)).size() > 0",
    "string doubling": "['ab'].map(a0, " + "".join(
        f"[a{i} + a{i}].map(a{i + 1}, " for i in range(40)) + "size(a40) > 0" + ")" * 41,
    "emoji doubling": "[async.data.e].map(a0, " + "".join(
        f"[a{i} + a{i}].map(a{i + 1}, " for i in range(40)) + "size(a40) > 0" + ")" * 41,
    "list doubling": "[async.data.l].map(a0, " + "".join(
        f"[a{i} + a{i}].map(a{i + 1}, " for i in range(40)) + "size(a40) > 0" + ")" * 41,
    "list literals in a loop": "async.data.l.map(x, [" + ", ".join(["x"] * 1000) + "]).size() > 0",
    "one-entry maps in a loop": "async.data.l.map(x, {x: x}).size() > 0",
    "strings in a loop": "async.data.l.map(x, string(x)).size() > 0",
    "uncharged: 700 string compares": " || ".join(["async.s < async.t"] * 700),
    "uncharged: 500 prefix tests": " || ".join(["async.s.startsWith(async.t)"] * 500),
}


def measure(expression: str, activation: dict[str, Any]) -> tuple[float, int, Any]:
    """(best of 3 ms, peak bytes allocated, result) of one evaluation."""
    program = matcher.compile(expression)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        result = program.try_evaluate(activation)
        best = min(best, time.perf_counter() - started)
    tracemalloc.start()
    program.try_evaluate(activation)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best * 1000, peak, result


def most_expensive_allowed_rule(reads: str) -> str:
    """Two nested macros over literal lists, as large as ``compile_rule`` still accepts; the
    inner condition reads ``reads`` (the trigger: registration evaluates it all; the
    incoming event: every event does)."""
    best = ""
    for n in range(10, 200):
        items = "[" + ", ".join(map(str, range(n))) + "]"
        rule = f"{items}.all(i, {items}.all(j, i + j >= {reads} || i == j)) && async.data.y == 1"
        try:
            matcher.compile_rule(rule)
        except matcher.CompileError:
            return best
        best = rule
    return best


def registration_and_event(rule: str, listeners: int = 1000) -> tuple[float, float, float]:
    """(median ms of one add, ms of all adds, ms of one event against ``listeners``)."""
    idx = matcher.ListenerIndex()
    idx.add("warm", event="e", expression=rule, trigger={"data": {"x": 0}}, run_id="w")
    idx.remove("warm")
    times = []
    for i in range(listeners):
        t0 = time.perf_counter()
        idx.add(f"l{i}", event="e", expression=rule, trigger={"data": {"x": 0}}, run_id=f"r{i}")
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    idx.match({"name": "e", "id": "x", "ts": 1, "data": {"x": 0, "y": 1}})
    event = time.perf_counter() - t0
    return statistics.median(times) * 1000, sum(times) * 1000, event * 1000


def main() -> None:
    activation = {"async": big_event(), "event": {}}
    print(f"{'workload':34} {'ms':>8} {'peak KB':>9}  result")
    for name, expression in WORKLOADS.items():
        ms, peak, result = measure(expression, activation)
        shown = "aborted" if isinstance(result, matcher.EvaluationAborted) else repr(result)[:20]
        print(f"{name:34} {ms:8.2f} {peak / 1024:9.0f}  {shown}")
    for reads in ("event.data.x", "async.data.x"):
        rule = most_expensive_allowed_rule(reads)
        program = matcher.compile_rule(rule)
        ms, _, _ = measure(rule, {"event": {"data": {"x": 0}}, "async": {"data": {"x": 0}}})
        one, total, event = registration_and_event(rule)
        print(f"\nmost expensive accepted rule reading {reads}: estimate "
              f"{program.estimated_cost():,} units, one evaluation {ms:.1f} ms")
        print(f"  registration: median {one:.2f} ms, 1,000 registrations {total:.0f} ms")
        print(f"  one event against 1,000 of its listeners: {event:.0f} ms")


if __name__ == "__main__":
    main()
