"""Benchmark harness smoke test: ``python -m bench --quick`` in-process, answers only.

Runs the quick report into a temporary directory (never bench/results) and asserts that every
engine's answers agreed with brute force and that the report files were written. No timing is
asserted anywhere. Sections that need ../shared/bench-data skip when it is absent.
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
    sections = ["scaling", "wordlist", "citylots", "registration", "service"]
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


def test_report_files_written(quick: tuple[dict[str, Any], Path]) -> None:
    results, out = quick
    m = results["machine"]
    data = json.loads((out / f"{m['date']}-{m['machine']}-quick.json").read_text())
    assert data["mode"] == "quick" and data["checks"] == results["checks"]
    text = (out / "REPORT.md").read_text()
    assert text.startswith("# cancelmatch benchmark report")
    assert m["cpu"] in text and "ratio to index" in text
    assert (out / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


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
