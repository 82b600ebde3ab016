"""Baselines: what a user would otherwise do — evaluate every pending listener's rule.

Three linear scans over the same listeners:

* ``OurScan``      — our compiled programs (``matcher.compile``), one program per rule text;
* ``CelExprScan``  — Google's C++ CEL via ``cel-expr-python``;
* ``CelPyScan``    — cel-python's interpreter (``celpy``).

The two foreign engines are given each listener's *residual* from our index (the rule with
its trigger event already substituted), so that they evaluate one program per listener
against one activation per incoming event — their fastest path; ours evaluates the rule as
registered, ``event`` bound to the trigger and ``async`` to the incoming event (a
per-listener activation is a plain dict for us, so it costs nothing extra).

``OurScan`` doubles as the brute-force oracle the report checks the index against: it applies
the same guards the index does that the workloads exercise: the event is not the run's own
trigger and is not older than the run start (no workload registers an expiry).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from bench.workloads import TRIGGER_TS, ListenerSpec


class OurScan:
    """Linear scan with our compiled programs. Complexity: O(pending listeners) per event."""

    label = "linear scan, our compiled programs"

    def __init__(self) -> None:
        import matcher

        self._compile = matcher.compile
        self._programs: dict[str, Any] = {}
        self._entries: list[tuple[Any, dict[str, Any], str]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, spec: ListenerSpec) -> None:
        program = self._programs.get(spec.expression)
        if program is None:
            program = self._compile(spec.expression, variables=("event", "async"))
            self._programs[spec.expression] = program
        self._entries.append((program, spec.trigger, spec.run_id))

    def evaluate(self, spec: ListenerSpec, event: dict[str, Any]) -> bool:
        """One listener's rule against one event (the counting ablation's final check)."""
        program = self._programs[spec.expression]
        return program.try_evaluate({"event": spec.trigger, "async": event}) is True

    def match(self, event: dict[str, Any]) -> set[str]:
        runs: set[str] = set()
        event_id = event["id"]
        if event["ts"] < TRIGGER_TS:  # every spec registers run_started_at=TRIGGER_TS
            return runs
        for program, trigger, run_id in self._entries:
            if (
                trigger["id"] != event_id
                and program.try_evaluate({"event": trigger, "async": event}) is True
            ):
                runs.add(run_id)
        return runs


def cel_expr_available() -> bool:
    try:
        import cel_expr_python.cel  # noqa: F401
    except ImportError:
        return False
    return True


class CelExprScan:
    """Linear scan with cel-expr-python (Google's C++ CEL behind pybind11).

    Given the listener's residual (``AddResult.residual``: the rule with its trigger event
    substituted, reading only ``async``), each listener gets its own compiled program and all
    of them share one prebuilt activation per incoming event — the fastest way to drive this
    library (building an activation per listener from ``event`` + ``async`` costs ~30 µs).
    Without a residual it evaluates the registered rule with a per-listener activation."""

    label = "linear scan, cel-expr-python (C++ CEL)"

    def __init__(
        self, specs: Iterable[ListenerSpec] = (), residuals: Iterable[str | None] | None = None
    ) -> None:
        from cel_expr_python import cel
        from cel_expr_python.ext import ext_strings

        self._env = cel.NewEnv(
            variables={"event": cel.Type.DYN, "async": cel.Type.DYN},
            extensions=[ext_strings.ExtStrings()],
        )
        self._programs: dict[str, Any] = {}
        # (program, trigger for a per-listener activation or None to share, trigger id, run id)
        self._entries: list[tuple[Any, dict[str, Any] | None, str, str]] = []
        for spec, residual in zip(specs, residuals or itertools.repeat(None), strict=False):
            self.add(spec, residual)

    def __len__(self) -> int:
        return len(self._entries)

    def compile(self, expression: str) -> Any:
        program = self._programs.get(expression)
        if program is None:
            program = self._programs[expression] = self._env.compile(expression or "true")
        return program

    def add(self, spec: ListenerSpec, residual: str | None = None) -> None:
        text = spec.expression if residual is None else residual
        # Conservative: any mention of "event" gets a per-listener activation.
        trigger = spec.trigger if "event" in text else None
        self._entries.append((self.compile(text), trigger, spec.trigger["id"], spec.run_id))

    def match(self, event: dict[str, Any]) -> set[str]:
        runs: set[str] = set()
        event_id = event["id"]
        if event["ts"] < TRIGGER_TS:
            return runs
        shared = self._env.Activation({"async": event})
        for program, trigger, trigger_id, run_id in self._entries:
            if trigger_id == event_id:
                continue
            if trigger is None:
                result = program.eval(shared)
            else:
                result = program.eval(data={"event": trigger, "async": event})
            if result.value() is True:
                runs.add(run_id)
        return runs


class CelPyScan:
    """Linear scan with cel-python's interpreter (what a Python developer writes first).

    Like ``CelExprScan``: with residuals, one program per listener over ``async`` and the
    incoming event converted once; without, the registered rule and its trigger event."""

    label = "linear scan, cel-python"

    def __init__(
        self, specs: Iterable[ListenerSpec] = (), residuals: Iterable[str | None] | None = None
    ) -> None:
        import celpy

        self._celpy = celpy
        self._env = celpy.Environment()
        self._programs: dict[str, Any] = {}
        self._entries: list[tuple[Any, Any, str, str]] = []
        for spec, residual in zip(specs, residuals or itertools.repeat(None), strict=False):
            self.add(spec, residual)

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, spec: ListenerSpec, residual: str | None = None) -> None:
        text = spec.expression if residual is None else (residual or "true")
        program = self._programs.get(text)
        if program is None:
            program = self._programs[text] = self._env.program(self._env.compile(text))
        trigger = self._celpy.json_to_cel(spec.trigger) if "event" in text else None
        self._entries.append((program, trigger, spec.trigger["id"], spec.run_id))

    def match(self, event: dict[str, Any]) -> set[str]:
        celpy = self._celpy
        runs: set[str] = set()
        if event["ts"] < TRIGGER_TS:
            return runs
        converted = celpy.json_to_cel(event)
        event_id = event["id"]
        for program, trigger, trigger_id, run_id in self._entries:
            if trigger_id == event_id:
                continue
            activation = (
                {"async": converted} if trigger is None else {"event": trigger, "async": converted}
            )
            try:
                result = program.evaluate(activation)
            except celpy.CELEvalError:
                continue
            if isinstance(result, celpy.celtypes.BoolType) and bool(result):
                runs.add(run_id)
        return runs
