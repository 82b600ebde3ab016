"""Benchmark harness smoke test: ``python -m bench --quick`` in-process, answers only.

Runs the quick report into a temporary directory (never bench/results) and asserts that every
engine's answers agreed with brute force, that the quick report shows answers and no timing,
that a missing bench extra is named instead of crashing, and that ``--runs`` merges runs into
medians. No timing is asserted anywhere. Sections that need ../shared/bench-data skip when it
is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import matcher
from bench import report
from bench.scaling import ScalingConfig, run_workload
from bench.workloads import all_workloads

DATA_DIR = report.default_data_dir()


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("bench-quick")
    sections = list(report.SECTIONS)
    results = report.run(sections, quick=True, data_dir=DATA_DIR)
    results["command"] = "python -m bench --quick"
    report.write(results, out, plots=True)
    return results, out


def _needs_data(name: str) -> None:
    if not (DATA_DIR / name).exists():
        pytest.skip(f"{DATA_DIR / name} absent: the bench data lives in ../shared/bench-data")


def test_every_engine_agrees_with_brute_force(quick: tuple[dict[str, Any], Path]) -> None:
    results, _ = quick
    bad = [
        f"{c['section']}/{c['name']}: {c['detail']}" for c in results["checks"] if not c["agree"]
    ]
    assert not bad, bad
    assert results["ok"] is True


def test_scaling_measured_every_workload_engine_and_size(
    quick: tuple[dict[str, Any], Path],
) -> None:
    scaling = quick[0]["sections"]["scaling"]
    assert [r["workload"] for r in scaling] == [w.name for w in all_workloads()]
    sizes = ScalingConfig.quick().sizes
    for result in scaling:
        index_rows = [r for r in result["rows"] if r["engine"] == "index"]
        assert [r["n"] for r in index_rows] == list(sizes)
        assert {r["engine"] for r in result["rows"]} >= {"index", "counting", "scan_ours"}
        compared = {c["engine"] for c in result["checks"] if c["events"] > 0}
        assert {"counting", "scan_ours"} <= compared, compared


def test_quick_report_lists_answers_and_no_timing(quick: tuple[dict[str, Any], Path]) -> None:
    results, out = quick
    m = results["machine"]
    data = json.loads((out / f"{m['date']}-{m['machine']}-quick.json").read_text())
    assert data["mode"] == "quick" and data["checks"] == results["checks"]
    text = (out / "REPORT.md").read_text()
    assert text.startswith("# cancelmatch benchmark report")
    assert m["cpu"] in text and f"{len(results['checks'])} comparisons with brute force" in text
    assert "scaling | equality N=500 scan_ours | yes" in text
    for timing in ("µs", " ms", "Targets", "ratio to index", "Wall time", "/s"):
        assert timing not in text, timing


def test_full_report_renders_targets_spread_and_cache(quick: tuple[dict[str, Any], Path],
                                                      tmp_path: Path) -> None:
    from bench._runs import merge_runs

    results = dict(quick[0], mode="full", command="python -m bench --runs 2")
    merged = merge_runs([results, results])
    written = report.write(merged, tmp_path, plots=True)
    text = (tmp_path / "REPORT.md").read_text()
    assert "## Targets from the issues" in text and "equality + 1 % `contains`" in text
    assert "Index median in each run:" in text and "## Cache sweep" in text
    assert "(tracemalloc)" in text and "counting design in Python (ablation" in text
    assert "inngest/expr" not in text.replace("not inngest/expr", "").replace(
        "peer-results/inngest-expr.md", "")
    assert (tmp_path / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(written) == 4


def test_citylots_counts_match_readme(quick: tuple[dict[str, Any], Path]) -> None:
    _needs_data("citylots-sample.jsonl")
    city = quick[0]["sections"]["citylots"]
    assert city["rules"] == 30 and city["events"] == 386
    assert all(city["checks"].values()), city["checks"]
    assert {(r["type"], r["rule"]): r["matches"] for r in city["rows"]}[
        ("EQUALS_IGNORE_CASE", 3)
    ] == 236


def test_service_decisions_agree(quick: tuple[dict[str, Any], Path]) -> None:
    service = quick[0]["sections"]["service"]
    assert service["checks"] and all(service["checks"].values()), service["checks"]
    assert service["rows"]["pending listeners"] == 2_000


def test_wordlist_agrees(quick: tuple[dict[str, Any], Path]) -> None:
    _needs_data("wwords.txt")
    modes = quick[0]["sections"]["wordlist"]["modes"]
    assert [m["mode"] for m in modes] == ["equality", "prefix"]
    assert all(m["agree"] and m["points"] for m in modes)


_REAL_INDEX = matcher.ListenerIndex


class _DropsMatches:
    """An index that loses every match: the harness must notice."""

    def __init__(self) -> None:
        self._inner = _REAL_INDEX()

    def add(self, *args: Any, **kwargs: Any) -> Any:
        return self._inner.add(*args, **kwargs)

    def match(self, event: dict[str, Any], env: str) -> list[Any]:
        return []


def test_harness_reports_a_disagreeing_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matcher, "ListenerIndex", _DropsMatches)
    cfg = ScalingConfig(sizes=(200,), events=10, budget_s=0.01, cel_expr_cap=0,
                        cel_python_measured_max=0, cel_python_measured_max_equality=0,
                        cel_python_sample=5)
    result = run_workload(all_workloads()[0], cfg)
    failed = {c["engine"] for c in result["checks"] if not c["agree"]}
    assert {"counting", "scan_ours"} <= failed, result["checks"]


def test_runs_merge_into_medians_and_keep_every_check() -> None:
    from bench._runs import merge_runs

    def one(median: float, agree: bool) -> dict[str, Any]:
        rows = [{"workload": "w", "engine": e, "n": 10, "median_us": median * k, "p99_us": 1.0,
                 "samples": 5, "method": "measured", "ratio": None}
                for e, k in (("index", 1), ("scan_ours", 100))]
        return {"machine": {}, "mode": "full", "skipped": {}, "wall_s": 2.0, "ok": agree,
                "checks": [{"section": "scaling", "name": "c", "agree": agree, "detail": ""}],
                "sections": {"scaling": [{"workload": "w", "rows": rows}],
                             "registration": [{"n": 10, "bytes_per_listener": median}]}}

    merged = merge_runs([one(1.0, True), one(5.0, True), one(2.0, False)])
    rows = merged["sections"]["scaling"][0]["rows"]
    assert rows[0]["median_us"] == 2.0 and rows[1]["median_us"] == 200.0
    assert rows[1]["ratio"] == 100.0
    assert merged["sections"]["registration"][0]["bytes_per_listener"] == 2.0
    assert merged["spread"] == {"w": {"10": [1.0, 5.0, 2.0]}}
    assert len(merged["checks"]) == 3 and merged["ok"] is False
    assert merged["runs"] == 3 and merged["wall_s"] == 6.0


def test_missing_bench_extra_is_named_not_a_traceback(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "celpy" else real(name, *a))
    assert report.main(["--quick", "--only", "scaling"]) == 2
    err = capsys.readouterr().err
    assert "cel-python (module celpy)" in err and ".[bench]" in err
    assert "Traceback" not in err


def test_quick_command_prints_checked_answers_only(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert report.main(["--quick", "--only", "registration", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("8 answer checks against brute force: all agree")
    assert "registration: 8 checks, all agree" in captured.out
    assert "ETA" in captured.err  # the progress lines (stderr is not a terminal here)
    assert not (tmp_path / "scaling.png").exists()


def test_runs_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        report.main(["--runs", "0"])
    assert "must be at least 1" in capsys.readouterr().err
