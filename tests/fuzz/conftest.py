"""Fixtures of the fuzz suite: a real server process per module, and the per-surface counts
printed at the end of the run and written to .pytest_cache/cancelmatch-fuzz.json."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "server"))  # server_support: the real-process helper

import pytest  # noqa: E402
from fuzz_harness import SCALE, SEED, SURFACES, write_record  # noqa: E402
from fuzz_server import FuzzServer  # noqa: E402


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not SURFACES:
        return
    terminalreporter.section(f"cancelmatch fuzz (seed {SEED}, scale {SCALE:g})")
    for name, s in SURFACES.items():
        top = ", ".join(f"{k} {v}" for k, v in s.outcomes.most_common(6))
        notes = "".join(f", {k} {v}" for k, v in s.notes.items())
        terminalreporter.write_line(
            f"{name:18} {s.sent:7d} inputs in {s.seconds:6.1f} s  ({top}{notes})")
    write_record(HERE.parents[1] / ".pytest_cache" / "cancelmatch-fuzz.json")


@pytest.fixture(scope="session")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzServer]:
    """One server process for every gRPC and REST surface (a restart per surface would
    cost more than the surface): each surface ends with its own health check."""
    srv = FuzzServer(tmp_path_factory.mktemp("fuzz"))
    yield srv
    srv.close()
