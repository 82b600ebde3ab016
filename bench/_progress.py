"""Progress: one bar with an ETA over the whole benchmark run, and the bench extra's check.

Every step of the run (a workload at one size, a section) has a weight: its expected share
of the run's time, in seconds measured on the project's machine. tqdm turns the weights done
so far into a rate and an ETA; on a terminal the bar redraws in place, elsewhere (CI logs)
each step prints one line with the elapsed time and the ETA instead.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Iterable
from typing import Any

EXTRA = "bench"
INSTALL = f"pip install -e '.[{EXTRA}]'  (or: pip install 'cancelmatch[{EXTRA}]')"

# module -> (distribution, what needs it)
BENCH_MODULES = {
    "celpy": ("cel-python", "the cel-python linear-scan baseline"),
    "cel_expr_python": ("cel-expr-python", "the cel-expr-python (C++ CEL) baseline"),
    "matplotlib": ("matplotlib", "the plots"),
    "tqdm": ("tqdm", "the progress bar"),
}


def missing_modules(names: Iterable[str]) -> list[str]:
    """The bench-extra modules among ``names`` that cannot be imported."""
    return [n for n in names if importlib.util.find_spec(n) is None]


def missing_message(missing: list[str]) -> str:
    """One clear paragraph: what is missing, what it is for, and the extra to install."""
    lines = [f"cancelmatch bench needs the '{EXTRA}' extra; not installed:"]
    for name in missing:
        dist, why = BENCH_MODULES[name]
        lines.append(f"  - {dist} (module {name}): {why}")
    lines.append(f"install it with: {INSTALL}")
    return "\n".join(lines)


# Expected seconds per step of a full run on the project's 2-core machine (the ETA's prior).
SCALING_STEP_S = {1_000: 4.0, 10_000: 9.0, 100_000: 12.0, 1_000_000: 65.0}
SECTION_S = {"wordlist": 20.0, "citylots": 15.0, "registration": 150.0, "service": 45.0,
             "cache": 20.0}


class Progress:
    """A weighted progress bar over ``total`` expected seconds (see the module docstring)."""

    def __init__(self, total: float, *, desc: str = "bench", log: Any = None) -> None:
        from tqdm import tqdm

        self._tty = sys.stderr.isatty()
        self._bar = tqdm(total=round(total, 1), desc=desc, unit="s", file=sys.stderr,
                         disable=not self._tty, dynamic_ncols=True,
                         bar_format="{desc}: {percentage:3.0f}%|{bar}| "
                                    "{elapsed} elapsed, ETA {remaining} {postfix}")
        self._format = tqdm.format_interval
        self._done, self._total, self._t0 = 0.0, total, time.monotonic()
        self._log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))

    def step(self, weight: float, label: str) -> None:
        """One step finished; ``weight`` is its share of ``total``."""
        weight = min(weight, self._total - self._done)
        self._done += weight
        self._bar.set_postfix_str(label, refresh=False)
        self._bar.update(round(weight, 1))
        if not self._tty:
            elapsed = time.monotonic() - self._t0
            left = elapsed / self._done * (self._total - self._done) if self._done else 0.0
            self._log(f"[{100 * self._done / self._total:3.0f}%] {label}; "
                      f"{self._format(elapsed)} elapsed, ETA {self._format(left)}")

    def close(self) -> None:
        self._bar.close()
