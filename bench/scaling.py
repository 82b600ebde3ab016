"""Scaling study: per-event match latency vs pending listeners, index beside the baselines.

For each workload the listener population grows through the configured sizes; at each size
every engine is timed on the same seeded events, and every engine's answers are compared with
the index's. Engines too slow to scan everything are measured where affordable and
extrapolated linearly (their cost is linear by construction); such rows say so in ``method``.
"""

from __future__ import annotations

import contextlib
import gc
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from bench import baselines
from bench._timing import Sample, time_calls
from bench.counting_matcher import CountingMatcher
from bench.workloads import ENV, ListenerSpec, Workload

ENGINES = {
    "index": "our index (ListenerIndex.match)",
    "counting": "counting design in Python (ablation, not inngest/expr)",
    "scan_ours": baselines.OurScan.label,
    "scan_cel_expr": baselines.CelExprScan.label,
    "scan_cel_python": baselines.CelPyScan.label,
}


@dataclass(frozen=True)
class ScalingConfig:
    """Sizes and budgets. ``full()`` is the report run, ``quick()`` the CI smoke run."""

    sizes: tuple[int, ...]
    events: int = 200
    budget_s: float = 2.0
    cel_expr_cap: int = 10_000
    cel_python_measured_max: int = 1_000
    cel_python_measured_max_equality: int = 10_000
    """cel-python costs ~1 ms per listener here: a full scan is measured up to 1k listeners
    (10k for the pure-equality workload, which also shows the extrapolation is linear)."""
    cel_python_sample: int = 200
    seed: int = 20261128

    @classmethod
    def full(cls) -> ScalingConfig:
        return cls(sizes=(1_000, 10_000, 100_000, 1_000_000))

    @classmethod
    def quick(cls) -> ScalingConfig:
        return cls(sizes=(500, 2_000), events=40, budget_s=0.2, cel_expr_cap=2_000,
                   cel_python_measured_max=0, cel_python_measured_max_equality=0,
                   cel_python_sample=25)


@dataclass
class Row:
    workload: str
    engine: str
    n: int
    median_us: float
    p99_us: float
    samples: int
    method: str = "measured"
    ratio: float | None = None


@dataclass
class Check:
    workload: str
    n: int
    engine: str
    events: int
    agree: bool
    matched_runs: int
    detail: str = ""


@dataclass
class _State:
    workload: Workload
    index: Any
    ours: baselines.OurScan
    counting: CountingMatcher
    specs: list[ListenerSpec] = field(default_factory=list)
    residuals: list[str] = field(default_factory=list)
    add_seconds: float = 0.0
    not_stored: list[str] = field(default_factory=list)
    access: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """For the harness's own untimed bookkeeping: millions of new containers would trigger
    repeated full collections over everything already built."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _grow(state: _State, n: int) -> None:
    with _collector_paused():
        new = state.workload.listeners(len(state.specs), n)
    index = state.index
    t0 = time.perf_counter()
    results = [spec.add_to(index) for spec in new]  # timed with the collector on, as in a server
    state.add_seconds += time.perf_counter() - t0
    with _collector_paused():
        _bookkeep(state, new, results)
    state.specs.extend(new)


def _bookkeep(state: _State, new: list[ListenerSpec], results: list[Any]) -> None:
    for spec, res in zip(new, results, strict=True):
        if not res.stored:
            state.not_stored.append(f"{spec.listener_id}: {res.status} {res.reason}")
        if spec.listener_id in ("l-0", "l-99"):
            state.access[spec.listener_id] = {"residual": res.residual, "access": list(res.access)}
        state.counting.add(spec)
        state.ours.add(spec)
        state.residuals.append(res.residual)


def _index_runs(index: Any, event: dict[str, Any]) -> tuple[set[str], bool]:
    matches = index.match(event, env=ENV)
    runs = {m.run_id for m in matches}
    return runs, len(runs) == len(matches)


def _compare(
    state: _State,
    engine: str,
    n: int,
    sample: Sample,
    events: list[dict[str, Any]],
    expected: list[set[str]],
    restrict: set[str] | None = None,
) -> Check:
    bad = []
    hits = 0
    for i, got in enumerate(sample.results[: len(events)]):
        want = expected[i] if restrict is None else expected[i] & restrict
        hits += len(want)
        if set(got) != want:
            bad.append(
                f"event {events[i]['id']}: {engine} {sorted(got)[:3]} index {sorted(want)[:3]}"
            )
    used = min(sample.n, len(events))
    return Check(
        state.workload.name, n, engine, used, not bad and used > 0, hits, "; ".join(bad[:3])
    )


def _row(
    state: _State, engine: str, n: int, sample: Sample, scale: float = 1.0, method: str = "measured"
) -> Row:
    return Row(
        state.workload.name,
        engine,
        n,
        sample.median_us() * scale,
        sample.p99_us() * scale,
        sample.n,
        method,
    )


def _measure_size(
    state: _State,
    n: int,
    cfg: ScalingConfig,
    cel_expr_per_listener: list[float],
) -> tuple[list[Row], list[Check]]:
    events = state.workload.events(cfg.seed, n, cfg.events)
    budget = cfg.budget_s
    rows, checks = [], []
    gc.collect()  # once per size: a full collection over a million listeners takes seconds
    sample = time_calls(
        lambda e: state.index.match(e, env=ENV), events, budget_s=budget, collect=False
    )
    rows.append(_row(state, "index", n, sample))
    expected, one_per_run = [], True
    for e in events:  # untimed: the index's answer for every event, to compare with
        runs, once = _index_runs(state.index, e)
        expected.append(runs)
        one_per_run &= once
    checks.append(
        Check(
            state.workload.name,
            n,
            "index:one-match-per-run",
            len(events),
            one_per_run,
            sum(map(len, expected)),
        )
    )
    for engine, fn in (("counting", state.counting.match), ("scan_ours", state.ours.match)):
        sample = time_calls(fn, events, budget_s=budget, collect=False)
        rows.append(_row(state, engine, n, sample))
        checks.append(_compare(state, engine, n, sample, events, expected))
    if baselines.cel_expr_available():
        rows += _cel_expr(state, n, cfg, events, expected, checks, cel_expr_per_listener)
    rows += _cel_python(state, n, cfg, events, expected, checks)
    return rows, checks


def _cel_expr(
    state: _State,
    n: int,
    cfg: ScalingConfig,
    events: list[dict[str, Any]],
    expected: list[set[str]],
    checks: list[Check],
    per_listener: list[float],
) -> list[Row]:
    if n <= cfg.cel_expr_cap:
        scan = baselines.CelExprScan(state.specs, state.residuals)
        sample = time_calls(scan.match, events, budget_s=cfg.budget_s)
        checks.append(_compare(state, "scan_cel_expr", n, sample, events, expected))
        per_listener[:] = [sample.median_us() / n, sample.p99_us() / n, float(n)]
        return [_row(state, "scan_cel_expr", n, sample)]
    if not per_listener:
        return []
    med, p99, cap = per_listener
    return [
        Row(
            state.workload.name,
            "scan_cel_expr",
            n,
            med * n,
            p99 * n,
            0,
            f"extrapolated linearly from N={int(cap):,}",
        )
    ]


def _cel_python(
    state: _State,
    n: int,
    cfg: ScalingConfig,
    events: list[dict[str, Any]],
    expected: list[set[str]],
    checks: list[Check],
) -> list[Row]:
    limit = (cfg.cel_python_measured_max_equality if state.workload.name == "equality"
             else cfg.cel_python_measured_max)
    if n <= limit:
        scan = baselines.CelPyScan(state.specs, state.residuals)
        sample = time_calls(scan.match, events, budget_s=cfg.budget_s, min_calls=1)
        checks.append(_compare(state, "scan_cel_python", n, sample, events, expected))
        return [_row(state, "scan_cel_python", n, sample)]
    k = min(cfg.cel_python_sample, n)
    rng = random.Random(cfg.seed + n)
    subset = rng.sample(state.specs, k)
    # Make the sample contain the listeners the first events cancel, so it checks real hits.
    wanted = set().union(*expected[:5])
    chosen = {s.run_id for s in subset}
    subset += [s for s in _specs_for_runs(state, wanted) if s.run_id not in chosen]
    scan = baselines.CelPyScan(subset, [state.residuals[_position(s)] for s in subset])
    sample = time_calls(scan.match, events, budget_s=cfg.budget_s, min_calls=3, collect=False)
    runs = {s.run_id for s in subset}
    checks.append(_compare(state, "scan_cel_python", n, sample, events, expected, restrict=runs))
    return [
        _row(
            state,
            "scan_cel_python",
            n,
            sample,
            scale=n / len(subset),
            method=f"extrapolated linearly from a sample of {len(subset)} listeners",
        )
    ]


def _position(spec: ListenerSpec) -> int:
    return int(spec.run_id.split("-", 1)[1])  # run ids are "run-%08d" of the position


def _specs_for_runs(state: _State, runs: set[str]) -> list[ListenerSpec]:
    return [state.specs[int(r.split("-", 1)[1])] for r in sorted(runs)]


def run_workload(workload: Workload, cfg: ScalingConfig,
                 tick: Callable[[str, int], None] | None = None) -> dict[str, Any]:
    """Grow one workload through ``cfg.sizes``; returns rows, checks and registration info.
    ``tick(workload, n)`` is called after each size (the progress bar)."""
    import matcher

    ours = baselines.OurScan()
    state = _State(workload, matcher.ListenerIndex(), ours, CountingMatcher(ours.evaluate))
    rows: list[Row] = []
    checks: list[Check] = []
    cel_expr_per_listener: list[float] = []
    phases: dict[str, float] = {}
    for n in cfg.sizes:
        t0 = time.perf_counter()
        _grow(state, n)
        t1 = time.perf_counter()
        r, c = _measure_size(state, n, cfg, cel_expr_per_listener)
        phases[f"grow to {n}"], phases[f"measure {n}"] = t1 - t0, time.perf_counter() - t1
        rows += r
        checks += c
        if tick is not None:
            tick(workload.name, n)
    checks.append(Check(workload.name, len(state.specs), "index:all-stored", len(state.specs),
                        not state.not_stored, 0, "; ".join(state.not_stored[:3])))
    _fill_ratios(rows)
    return {
        "workload": workload.name,
        "title": workload.title,
        "rows": [asdict(r) for r in rows],
        "checks": [asdict(c) for c in checks],
        "adds_per_s": len(state.specs) / state.add_seconds if state.add_seconds else None,
        "access_examples": state.access,
        "phase_seconds": phases,
    }


def _fill_ratios(rows: list[Row]) -> None:
    base = {r.n: r.median_us for r in rows if r.engine == "index"}
    for r in rows:
        b = base.get(r.n)
        if b:
            r.ratio = r.median_us / b


def run_scaling(
    workloads: list[Workload], cfg: ScalingConfig,
    tick: Callable[[str, int], None] | None = None,
) -> list[dict[str, Any]]:
    return [run_workload(w, cfg, tick) for w in workloads]
