"""Plots: small PNG figures for the report (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.scaling import ENGINES

_STYLE = {
    "index": ("tab:blue", "o"),
    "counting": ("tab:orange", "s"),
    "scan_ours": ("tab:green", "^"),
    "scan_cel_expr": ("tab:purple", "D"),
    "scan_cel_python": ("tab:red", "v"),
}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _series(rows: list[dict[str, Any]], engine: str, key: str) -> tuple[list[Any], list[Any]]:
    pts = sorted((r["n"], r[key], r["method"] != "measured") for r in rows if r["engine"] == engine)
    return [p for p in pts if not p[2]], [p for p in pts if p[2]]


def _plot_engine(ax: Any, rows: list[dict[str, Any]], engine: str) -> None:
    color, marker = _STYLE[engine]
    measured, extrapolated = _series(rows, engine, "median_us")
    if measured:
        ax.plot(
            [p[0] for p in measured],
            [p[1] for p in measured],
            color=color,
            marker=marker,
            ms=4,
            lw=1.5,
            label=ENGINES[engine],
        )
    if extrapolated:
        joined = measured[-1:] + extrapolated
        ax.plot([p[0] for p in joined], [p[1] for p in joined], color=color, ls="--", lw=1)
        ax.plot(
            [p[0] for p in extrapolated],
            [p[1] for p in extrapolated],
            color=color,
            marker=marker,
            ms=4,
            mfc="none",
            ls="none",
            label=None if measured else ENGINES[engine] + " (extrapolated)",
        )
    if engine == "index":
        p99, _ = _series(rows, engine, "p99_us")
        ax.plot(
            [p[0] for p in p99],
            [p[1] for p in p99],
            color=color,
            ls=":",
            lw=1,
            label="our index, p99",
        )


def scaling_plot(scaling: list[dict[str, Any]], path: Path) -> None:
    """Log-log median latency per event vs pending listeners, one panel per workload."""
    plt = _pyplot()
    cols = 3
    rows_n = (len(scaling) + cols - 1) // cols
    fig, axes = plt.subplots(rows_n, cols, figsize=(12, 3.6 * rows_n), squeeze=False)
    for ax, result in zip(axes.flat, scaling, strict=False):
        for engine in _STYLE:
            _plot_engine(ax, result["rows"], engine)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(result["title"], fontsize=9)
        ax.set_xlabel("pending listeners", fontsize=8)
        ax.set_ylabel("µs per event (median)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, which="major", lw=0.3)
    for ax in list(axes.flat)[len(scaling) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle(
        "Match latency per event vs pending listeners (hollow/dashed = extrapolated)", fontsize=10
    )
    fig.tight_layout(rect=(0, 0.07, 1, 0.97))
    fig.savefig(path, dpi=72)
    plt.close(fig)


def wordlist_plot(wordlist: dict[str, Any], path: Path) -> None:
    """Events matched per second while listeners are added one word at a time."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for mode in wordlist["modes"]:
        pts = mode["points"]
        ax.plot(
            [p["listeners"] for p in pts],
            [p["events_per_s"] for p in pts],
            lw=1.2,
            label=mode["expression"].replace("{w}", "<word>").replace("{p}", "<4 letters>"),
        )
    ax.set_xlabel("listeners loaded (one per word)", fontsize=8)
    ax.set_ylabel("events matched per second", fontsize=8)
    ax.set_ylim(bottom=0)
    ax.tick_params(labelsize=7)
    ax.grid(True, lw=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Word-list scaling (wwords.txt, stride 761)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)
