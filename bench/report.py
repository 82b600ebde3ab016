"""Report: the one command that runs every study and writes JSON, Markdown and plots.

    python -m bench              # full report into bench/results/ (~15 min on 2 cores)
    python -m bench --quick      # seconds; checks answers against brute force, never times

Exit status 0 when every engine's answers agreed with brute force, 1 otherwise, 2 when the
environment cannot run it (matcher missing its compiler or index).
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

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SECTIONS = ("scaling", "wordlist", "citylots", "registration", "service")


def default_data_dir() -> Path:
    """$CANCELMATCH_BENCH_DATA, else ../shared/bench-data beside the repository."""
    env = os.environ.get("CANCELMATCH_BENCH_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "bench-data"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small N, seconds; for CI")
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


def _run_scaling(quick: bool, data_dir: Path) -> tuple[Any, list[dict[str, Any]]]:
    from bench.scaling import ScalingConfig, run_scaling
    from bench.workloads import all_workloads

    cfg = ScalingConfig.quick() if quick else ScalingConfig.full()
    result = run_scaling(all_workloads(), cfg, log=_log)
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


def _run_wordlist(quick: bool, data_dir: Path) -> tuple[Any, list[dict[str, Any]]]:
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


def _run_citylots(quick: bool, data_dir: Path) -> tuple[Any, list[dict[str, Any]]]:
    from bench.citylots import run_citylots

    result = run_citylots(
        data_dir, budget_s=0.05 if quick else 2.0, cel_python_events=8 if quick else 40
    )
    checks = [
        {"section": "citylots", "name": k, "agree": v, "detail": ""}
        for k, v in result["checks"].items()
    ]
    return result, checks


def _run_registration(quick: bool, data_dir: Path) -> tuple[Any, list[dict[str, Any]]]:
    from bench.registration import measure_in_subprocess

    sizes = [1_000, 5_000] if quick else [1_000, 10_000, 100_000, 1_000_000]
    rows = measure_in_subprocess(sizes)
    checks = [
        {
            "section": "registration",
            "name": f"N={r['n']:,} all pending",
            "agree": r["pending"] == r["n"],
            "detail": f"len(index) = {r['pending']}",
        }
        for r in rows
    ]
    return rows, checks


def _run_service(quick: bool, data_dir: Path) -> tuple[Any, list[dict[str, Any]]]:
    from bench.service import run_service

    result = run_service(quick=quick)
    checks = [
        {"section": "service", "name": k, "agree": v, "detail": ""}
        for k, v in result.get("checks", {}).items()
    ]
    return result, checks


_RUNNERS: dict[str, Callable[[bool, Path], tuple[Any, list[dict[str, Any]]]]] = {
    "scaling": _run_scaling,
    "wordlist": _run_wordlist,
    "citylots": _run_citylots,
    "registration": _run_registration,
    "service": _run_service,
}
_NEEDS_DATA = {"wordlist": "wwords.txt", "citylots": "citylots-sample.jsonl"}


def run(sections: list[str], *, quick: bool, data_dir: Path) -> dict[str, Any]:
    """Run the named sections; returns the results dictionary written to JSON."""
    t0 = time.perf_counter()
    results: dict[str, Any] = {
        "machine": _machine.machine_info(),
        "mode": "quick" if quick else "full",
        "sections": {},
        "skipped": {},
        "checks": [],
    }
    for name in sections:
        needed = _NEEDS_DATA.get(name)
        if needed and not (data_dir / needed).exists():
            results["skipped"][name] = f"{data_dir / needed} not found (bench data absent)"
            _log(f"{name}: skipped, {data_dir / needed} not found")
            continue
        _log(f"{name}: running")
        s0 = time.perf_counter()
        section, checks = _RUNNERS[name](quick, data_dir)
        results["sections"][name] = section
        results["checks"] += checks
        _log(f"{name}: {time.perf_counter() - s0:.1f} s")
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
    data_dir = args.data_dir or default_data_dir()
    out = args.out or (
        Path(tempfile.mkdtemp(prefix="cancelmatch-bench-")) if args.quick else RESULTS_DIR
    )
    results = run(sections, quick=args.quick, data_dir=data_dir)
    results["command"] = "python -m bench" + (" --quick" if args.quick else "")
    for path in write(results, out, plots=not args.no_plots):
        _log(f"wrote {path}")
    for c in results["checks"]:
        if not c["agree"]:
            _log(f"DISAGREES: {c['section']} / {c['name']}: {c['detail']}")
    return 0 if results["ok"] else 1
