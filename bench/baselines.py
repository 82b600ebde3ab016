"""Baselines: what a user would otherwise do — evaluate every pending listener's rule.

Three linear scans over the same listeners, each evaluating the listener's original rule with
``event`` bound to its trigger event and ``async`` to the incoming event:

* ``OurScan``      — our compiled programs (``matcher.compile``), one program per rule text;
* ``CelExprScan``  — Google's C++ CEL via ``cel-expr-python``, one compiled ``Expression`` per
  rule text; a rule that reads ``event`` needs an activation per listener (``event`` differs
  per run), the others share one prebuilt activation per incoming event;
* ``CelPyScan``    — cel-python's interpreter (``celpy``), trigger events converted once.

``OurScan`` doubles as the brute-force oracle the report checks the index against: it applies
the same guards the index does (here only "the event is not the run's own trigger"; the
workloads register no expiry and events are newer than every run start).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bench.workloads import ListenerSpec


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
        """One listener's rule against one event (the counting model's final check)."""
        program = self._programs[spec.expression]
        return program.try_evaluate({"event": spec.trigger, "async": event}) is True

    def match(self, event: dict[str, Any]) -> set[str]:
        runs: set[str] = set()
        event_id = event["id"]
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
    """Linear scan with cel-expr-python (Google's C++ CEL behind pybind11)."""

    label = "linear scan, cel-expr-python (C++ CEL)"

    def __init__(self, specs: Iterable[ListenerSpec] = ()) -> None:
        from cel_expr_python import cel
        from cel_expr_python.ext import ext_strings

        self._env = cel.NewEnv(
            variables={"event": cel.Type.DYN, "async": cel.Type.DYN},
            extensions=[ext_strings.ExtStrings()],
        )
        self._programs: dict[str, Any] = {}
        self._entries: list[tuple[Any, dict[str, Any], str, bool]] = []
        for spec in specs:
            self.add(spec)

    def __len__(self) -> int:
        return len(self._entries)

    def compile(self, expression: str) -> Any:
        program = self._programs.get(expression)
        if program is None:
            program = self._programs[expression] = self._env.compile(expression)
        return program

    def add(self, spec: ListenerSpec) -> None:
        # Conservative: any mention of "event" gets a per-listener activation.
        uses_event = "event" in spec.expression
        self._entries.append((self.compile(spec.expression), spec.trigger, spec.run_id, uses_event))

    def match(self, event: dict[str, Any]) -> set[str]:
        runs: set[str] = set()
        event_id = event["id"]
        shared = None
        for program, trigger, run_id, uses_event in self._entries:
            if trigger["id"] == event_id:
                continue
            if uses_event:
                result = program.eval(data={"event": trigger, "async": event})
            else:
                if shared is None:
                    shared = self._env.Activation({"async": event})
                result = program.eval(shared)
            if result.value() is True:
                runs.add(run_id)
        return runs


class CelPyScan:
    """Linear scan with cel-python's interpreter (what a Python developer writes first)."""

    label = "linear scan, cel-python"

    def __init__(self, specs: Iterable[ListenerSpec] = ()) -> None:
        import celpy

        self._celpy = celpy
        self._env = celpy.Environment()
        self._programs: dict[str, Any] = {}
        self._entries: list[tuple[Any, Any, str, str]] = []
        for spec in specs:
            self.add(spec)

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, spec: ListenerSpec) -> None:
        program = self._programs.get(spec.expression)
        if program is None:
            program = self._env.program(self._env.compile(spec.expression))
            self._programs[spec.expression] = program
        trigger = self._celpy.json_to_cel(spec.trigger)
        self._entries.append((program, trigger, spec.trigger["id"], spec.run_id))

    def match(self, event: dict[str, Any]) -> set[str]:
        celpy = self._celpy
        activation_event = celpy.json_to_cel(event)
        runs: set[str] = set()
        event_id = event["id"]
        for program, trigger, trigger_id, run_id in self._entries:
            if trigger_id == event_id:
                continue
            try:
                result = program.evaluate({"event": trigger, "async": activation_event})
            except celpy.CELEvalError:
                continue
            if isinstance(result, celpy.celtypes.BoolType) and bool(result):
                runs.add(run_id)
        return runs
