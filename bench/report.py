"""Report: the one command that runs every study and writes JSON, Markdown and plots.

    python -m bench              # full report into bench/results/ (~12 min on 2 cores)
    python -m bench --runs 3     # three full runs; every figure is the median over runs
    python -m bench --quick      # seconds; checks answers against brute force, never times

A progress bar with an ETA covers the whole run. Exit status 0 when every engine's answers
agreed with brute force, 1 otherwise, 2 when the environment cannot run it (the bench extra
or matcher's compiler and index missing).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import _machine
from bench._progress import missing_message, missing_modules

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SECTIONS = ("scaling", "wordlist", "citylots", "registration", "service", "cache")


def default_data_dir() -> Path:
    """$CANCELMATCH_BENCH_DATA, else ../shared/bench-data beside the repository."""
    env = os.environ.get("CANCELMATCH_BENCH_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "bench-data"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="small N, seconds: checks answers against brute force, prints no timings")
    p.add_argument("--runs", type=_positive, default=1, metavar="N",
                   help="run the whole report N times; report the median of each figure "
                        "over the runs, with the spread of the index's (default 1)")
    p.add_argument(
        "--out",
        type=Path,
        help="output directory (default bench/results; "
        "--quick defaults to a new temporary directory)",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="bench data (default $CANCELMATCH_BENCH_DATA or ../shared/bench-data)",
    )
    p.add_argument(
        "--only", action="append", choices=SECTIONS, help="run only this section (repeatable)"
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--from-json", type=Path, metavar="RESULTS_JSON",
                   help="measure nothing: re-render REPORT.md and plots from a results file")
    return p


def _positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {n}")
    return n


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _require_matcher() -> str | None:
    try:
        import matcher

        matcher.compile  # noqa: B018
        matcher.ListenerIndex  # noqa: B018
    except (ImportError, AttributeError) as exc:
        return f"matcher.compile / matcher.ListenerIndex unavailable: {exc}"
    return None


Tick = Callable[[float, str], None]


def _run_scaling(quick: bool, data_dir: Path, tick: Tick) -> tuple[Any, list[dict[str, Any]]]:
    from bench.scaling import ScalingConfig, run_scaling
    from bench.workloads import all_workloads

    cfg = ScalingConfig.quick() if quick else ScalingConfig.full()
    result = run_scaling(all_workloads(), cfg,
                         lambda name, n: tick(_step_weight("scaling", n, quick),
                                              f"scaling {name} N={n:,}"))
    checks = [
        {
            "section": "scaling",
            "name": f"{c['workload']} N={c['n']:,} {c['engine']}",
            "agree": c["agree"],
            "detail": c["detail"],
        }
        for r in result
        for c in r["checks"]
    ]
    return result, checks


def _run_wordlist(quick: bool, data_dir: Path, tick: Tick) -> tuple[Any, list[dict[str, Any]]]:
    from bench.wordlist import run_wordlist

    path = data_dir / "wwords.txt"
    result = run_wordlist(path, limit=600, step=100, n_events=100) if quick else run_wordlist(path)
    checks = [
        {
            "section": "wordlist",
            "name": m["mode"],
            "agree": m["agree"],
            "detail": "; ".join(m["mismatches"]),
        }
        for m in result["modes"]
    ]
    return result, checks


def _run_citylots(quick: bool, data_dir: Path, tick: Tick) -> tuple[Any, list[dict[str, Any]]]:
    from bench.citylots import run_citylots

    result = run_citylots(
        data_dir, budget_s=0.05 if quick else 2.0, cel_python_events=8 if quick else 40
    )
    checks = [
        {"section": "citylots", "name": k, "agree": v, "detail": ""}
        for k, v in result["checks"].items()
    ]
    return result, checks


def _run_registration(quick: bool, data_dir: Path,
                      tick: Tick) -> tuple[Any, list[dict[str, Any]]]:
    from bench.registration import measure_in_subprocess

    sizes = [1_000, 5_000] if quick else [1_000, 10_000, 100_000, 1_000_000]
    rows = []
    for workload in ("equality", "in_list"):
        for trace in (False, True):
            rows += measure_in_subprocess(sizes, workload, trace)
            tick(_step_weight("registration", 0, quick) / 4,
                 f"registration {workload} {'tracemalloc' if trace else 'RSS'}")
    checks = [
        {
            "section": "registration",
            "name": f"{r['workload']} N={r['n']:,} all pending ({r['method']})",
            "agree": r["pending"] == r["n"],
            "detail": f"len(index) = {r['pending']}",
        }
        for r in rows
    ]
    return rows, checks


def _run_cache(quick: bool, data_dir: Path, tick: Tick) -> tuple[Any, list[dict[str, Any]]]:
    from bench.cache_sweep import run_cache_sweep

    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000, 1_000_000)
    return run_cache_sweep(sizes, probes=2_000 if quick else 20_000), []


def _run_service(quick: bool, data_dir: Path, tick: Tick) -> tuple[Any, list[dict[str, Any]]]:
    from bench.service import run_service

    result = run_service(quick=quick)
    checks = [
        {"section": "service", "name": k, "agree": v, "detail": ""}
        for k, v in result.get("checks", {}).items()
    ]
    return result, checks


_RUNNERS: dict[str, Callable[[bool, Path, Tick], tuple[Any, list[dict[str, Any]]]]] = {
    "scaling": _run_scaling,
    "wordlist": _run_wordlist,
    "citylots": _run_citylots,
    "registration": _run_registration,
    "service": _run_service,
    "cache": _run_cache,
}
_NEEDS_MODULES = {"scaling": ("celpy", "cel_expr_python"), "citylots": ("celpy", "cel_expr_python")}


def _step_weight(section: str, n: int, quick: bool) -> float:
    """Expected seconds of one progress step (see bench._progress)."""
    from bench import _progress

    if quick:
        return 1.0 if section == "scaling" else 2.0
    if section == "scaling":
        return _progress.SCALING_STEP_S.get(n, 10.0)
    return _progress.SECTION_S.get(section, 20.0)


def _total_weight(sections: list[str], quick: bool) -> float:
    from bench.scaling import ScalingConfig
    from bench.workloads import all_workloads

    total = 0.0
    for name in sections:
        if name == "scaling":
            sizes = (ScalingConfig.quick() if quick else ScalingConfig.full()).sizes
            total += len(all_workloads()) * sum(_step_weight(name, n, quick) for n in sizes)
        else:
            total += _step_weight(name, 0, quick)
    return total


def required_modules(sections: list[str], plots: bool) -> list[str]:
    """The bench-extra modules this run imports (checked before anything runs)."""
    names = ["tqdm"] + [m for s in sections for m in _NEEDS_MODULES.get(s, ())]
    return list(dict.fromkeys(names + (["matplotlib"] if plots else [])))
_NEEDS_DATA = {"wordlist": "wwords.txt", "citylots": "citylots-sample.jsonl"}


def run(sections: list[str], *, quick: bool, data_dir: Path,
        progress: Any = None) -> dict[str, Any]:
    """Run the named sections; returns the results dictionary written to JSON."""
    t0 = time.perf_counter()
    results: dict[str, Any] = {
        "machine": _machine.machine_info(),
        "mode": "quick" if quick else "full",
        "sections": {},
        "skipped": {},
        "checks": [],
    }

    def tick(weight: float, label: str) -> None:
        if progress is not None:
            progress.step(weight, label)

    for name in sections:
        needed = _NEEDS_DATA.get(name)
        if needed and not (data_dir / needed).exists():
            results["skipped"][name] = f"{data_dir / needed} not found (bench data absent)"
            _log(f"{name}: skipped, {data_dir / needed} not found")
            tick(_step_weight(name, 0, quick), f"{name} skipped")
            continue
        section, checks = _RUNNERS[name](quick, data_dir, tick)
        results["sections"][name] = section
        results["checks"] += checks
        if name not in ("scaling", "registration"):  # those tick per step
            tick(_step_weight(name, 0, quick), name)
    results["wall_s"] = time.perf_counter() - t0
    results["ok"] = all(c["agree"] for c in results["checks"])
    return results


def write(results: dict[str, Any], out: Path, *, plots: bool) -> list[Path]:
    """Write <date>-<machine>.json, REPORT.md and the plots into ``out``."""
    from bench.render import render_markdown

    out.mkdir(parents=True, exist_ok=True)
    m = results["machine"]
    suffix = "-quick" if results["mode"] == "quick" else ""
    json_path = out / f"{m['date']}-{m['machine']}{suffix}.json"
    json_path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    md_path = out / "REPORT.md"
    md_path.write_text(render_markdown(results), encoding="utf-8")
    written = [json_path, md_path]
    if plots:
        from bench import plots as plotting

        sections = results["sections"]
        if "scaling" in sections:
            plotting.scaling_plot(sections["scaling"], out / "scaling.png")
            written.append(out / "scaling.png")
        if "wordlist" in sections:
            plotting.wordlist_plot(sections["wordlist"], out / "wordlist.png")
            written.append(out / "wordlist.png")
    return written


def _rerender(path: Path, out: Path | None, plots: bool) -> int:
    results = json.loads(path.read_text(encoding="utf-8"))
    for written in write(results, out or path.parent, plots=plots):
        _log(f"wrote {written}")
    return 0 if results["ok"] else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.from_json:
        return _rerender(args.from_json, args.out, not args.no_plots)
    problem = _require_matcher()
    if problem:
        _log(f"cannot benchmark: {problem}")
        return 2
    sections = list(args.only or SECTIONS)
    plots = not (args.no_plots or args.quick)  # plots are timings: --quick never times
    missing = missing_modules(required_modules(sections, plots))
    if missing:
        _log(missing_message(missing))
        return 2
    data_dir = args.data_dir or default_data_dir()
    out = args.out or (
        Path(tempfile.mkdtemp(prefix="cancelmatch-bench-")) if args.quick else RESULTS_DIR
    )
    results = _run_all(sections, args.quick, data_dir, args.runs)
    results["command"] = "python -m bench" + (" --quick" if args.quick else "") + (
        f" --runs {args.runs}" if args.runs > 1 else "")
    for path in write(results, out, plots=plots):
        _log(f"wrote {path}")
    for c in results["checks"]:
        if not c["agree"]:
            _log(f"DISAGREES: {c['section']} / {c['name']}: {c['detail']}")
    print(_verdict(results))
    return 0 if results["ok"] else 1


def _run_all(sections: list[str], quick: bool, data_dir: Path, runs: int) -> dict[str, Any]:
    from bench._progress import Progress
    from bench._runs import merge_runs

    progress = Progress(runs * _total_weight(sections, quick), log=_log,
                        desc="bench --quick" if quick else f"bench ({runs} run{'s' * (runs > 1)})")
    try:
        return merge_runs([run(sections, quick=quick, data_dir=data_dir, progress=progress)
                           for _ in range(runs)])
    finally:
        progress.close()


def _verdict(results: dict[str, Any]) -> str:
    """What was checked, per section, and the verdict (never a timing)."""
    checks = results["checks"]
    per: dict[str, list[bool]] = {}
    for c in checks:
        per.setdefault(c["section"], []).append(c["agree"])
    lines = [f"  {name}: {len(oks)} checks, "
             + ("all agree" if all(oks) else f"{oks.count(False)} DISAGREE")
             for name, oks in per.items()]
    lines += [f"  {name}: skipped ({why})" for name, why in results["skipped"].items()]
    bad = sum(not c["agree"] for c in checks)
    head = (f"{len(checks)} answer checks against brute force: "
            + (f"{bad} DISAGREE" if bad else "all agree"))
    return "\n".join([head, *lines])
