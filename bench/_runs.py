"""Runs: several full reports merged into one whose every figure is the median over runs.

On a shared machine one run's medians of a few microseconds move by ±2×; the median of three
runs is what the issues' targets are judged on. Runs have the same shape (same sections,
sizes, engines and events), so they merge value by value: numbers become their median,
booleans (answers agree) must hold in every run, text is taken from the first run. The
result checks of every run are kept (so the count says how many comparisons were made), and
``spread`` keeps each run's index median per workload and size, for the report's min–max.
"""

from __future__ import annotations

import statistics
from typing import Any


def _merge(values: list[Any]) -> Any:
    first = values[0]
    if isinstance(first, bool):
        return all(values)
    if isinstance(first, int | float) and all(isinstance(v, int | float) for v in values):
        return statistics.median(values)
    if isinstance(first, dict) and all(isinstance(v, dict) and v.keys() == first.keys()
                                       for v in values):
        return {k: _merge([v[k] for v in values]) for k in first}
    if isinstance(first, list) and all(isinstance(v, list) and len(v) == len(first)
                                       for v in values):
        return [_merge(list(items)) for items in zip(*values, strict=True)]
    return first


def _spread(runs: list[dict[str, Any]]) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {}
    for results in runs:
        for workload in results["sections"].get("scaling", []):
            for row in workload["rows"]:
                if row["engine"] == "index":
                    out.setdefault(workload["workload"], {}).setdefault(
                        str(row["n"]), []).append(row["median_us"])
    return out


def merge_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One results dictionary from ``runs`` (see the module docstring)."""
    if len(runs) == 1:
        return runs[0]
    merged: dict[str, Any] = dict(runs[0])
    merged["sections"] = _merge([r["sections"] for r in runs])
    for workload in merged["sections"].get("scaling", []):
        _fill_ratios(workload["rows"])
    merged["checks"] = [dict(c, name=f"run {i + 1}: {c['name']}")
                        for i, r in enumerate(runs) for c in r["checks"]]
    merged["wall_s"] = sum(r["wall_s"] for r in runs)
    merged["ok"] = all(r["ok"] for r in runs)
    merged["runs"] = len(runs)
    merged["spread"] = _spread(runs)
    return merged


def _fill_ratios(rows: list[dict[str, Any]]) -> None:
    """Ratios are recomputed from the merged medians (a median of ratios would differ)."""
    base = {r["n"]: r["median_us"] for r in rows if r["engine"] == "index"}
    for r in rows:
        b = base.get(r["n"])
        r["ratio"] = r["median_us"] / b if b else None
