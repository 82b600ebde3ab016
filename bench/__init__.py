"""Benchmarks: pytest-benchmark suites and the reproducible scaling report (never in CI timing).

    python -m pytest bench --benchmark-only     # micro-benchmarks (compile, evaluate, index)
    python -m bench [--quick]                   # scaling report -> bench/results/

``main(argv)`` is what ``cancelmatch bench`` calls.
"""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark report; see ``python -m bench --help``."""
    from bench.report import main as report_main

    return report_main(argv)


__all__ = ["main"]
