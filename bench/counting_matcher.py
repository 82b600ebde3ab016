"""Ablation: the counting design re-implemented in Python, to isolate what our index adds.

This is NOT inngest/expr, not a port of its code, and no figure from it may be quoted as
inngest/expr's: the real library, measured side by side on this project's machines, is in
``../shared/peer-results/inngest-expr.md`` (README "Performance" quotes it from there). This
module re-implements the *counting* approach (an "aggregate evaluator") in Python, with our
own compiled programs for the final check, so that the report can show, in one process and
on the same events, what our index's design choices buy over that design:

* every indexable predicate of an expression is registered with an engine by operator type:
  string ``==`` / ``in`` and string ``!=`` in a hash engine, numeric comparisons in an ordered
  engine (a sorted list);
* for an incoming event each engine reports *every* predicate the event satisfies, and each
  report increments a counter of that expression; an expression is a candidate when its count
  reaches its number of indexed predicates (or it also has non-indexable parts — "mixed");
* expressions with no indexable predicate (string functions such as ``startsWith`` or
  ``contains``, macros) are evaluated for every event;
* each candidate is then fully evaluated with our compiled program for the listener's rule.

The consequence the report shows: a satisfied range (``amount > 5``) or a ``!=`` that most
events satisfy increments a counter for nearly every pending expression, so the cost per
event grows with the number of pending listeners instead of the number that match; our index
files each clause under one atom and verifies the rest. Simplifications: one bucket per event
name, no environment, expiry or run-start guards (the workloads never exercise them).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from bench.workloads import ListenerSpec

_Key = int  # position of a listener in CountingMatcher._listeners


def _lookup(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return _MISSING
        data = data[part]
    return data


_MISSING = object()


class _Ordered:
    """Numeric predicates ``path op threshold`` kept sorted by threshold (sorted lazily)."""

    def __init__(self) -> None:
        self.thresholds: list[float] = []
        self.keys: list[_Key] = []
        self._pending: list[tuple[float, _Key]] = []

    def add(self, threshold: float, key: _Key) -> None:
        self._pending.append((threshold, key))

    def _settle(self) -> None:
        if self._pending:
            pairs = sorted([*zip(self.thresholds, self.keys, strict=True), *self._pending])
            self.thresholds = [t for t, _ in pairs]
            self.keys = [k for _, k in pairs]
            self._pending = []

    def satisfied(self, op: str, value: float) -> list[_Key]:
        """Keys whose predicate ``value op threshold`` holds: a slice, so O(k) for k keys."""
        self._settle()
        t = self.thresholds
        if op == ">":  # value > threshold  <=>  threshold < value
            return self.keys[: bisect.bisect_left(t, value)]
        if op == ">=":
            return self.keys[: bisect.bisect_right(t, value)]
        if op == "<":
            return self.keys[bisect.bisect_right(t, value) :]
        return self.keys[bisect.bisect_left(t, value) :]  # "<="


class CountingMatcher:
    """The counting design (see the module docstring). ``evaluate(spec, event)`` decides a
    candidate exactly, with the listener's full rule."""

    def __init__(self, evaluate: Callable[[ListenerSpec, dict[str, Any]], bool]) -> None:
        self._evaluate = evaluate
        self._listeners: list[ListenerSpec] = []
        self._size: list[int] = []
        self._mixed: set[_Key] = set()
        self._always: list[_Key] = []
        self._eq: dict[tuple[str, ...], dict[Any, list[_Key]]] = defaultdict(dict)
        self._ne: dict[tuple[str, ...], dict[Any, list[_Key]]] = defaultdict(dict)
        self._ord: dict[tuple[tuple[str, ...], str], _Ordered] = defaultdict(_Ordered)

    def __len__(self) -> int:
        return len(self._listeners)

    def add(self, spec: ListenerSpec) -> None:
        key = len(self._listeners)
        self._listeners.append(spec)
        self._size.append(len(spec.atoms))
        if not spec.atoms:
            self._always.append(key)
            return
        if spec.slow:
            self._mixed.add(key)
        for path, op, literal in spec.atoms:
            if op == "==":
                self._eq[path].setdefault(literal, []).append(key)
            elif op == "in":
                for value in literal:
                    self._eq[path].setdefault(value, []).append(key)
            elif op == "!=":
                self._ne[path].setdefault(literal, []).append(key)
            else:
                self._ord[(path, op)].add(literal, key)

    def _count(self, event: dict[str, Any]) -> dict[_Key, int]:
        counts: dict[_Key, int] = defaultdict(int)
        for path, table in self._eq.items():
            value = _lookup(event, path)
            if isinstance(value, str):
                for key in table.get(value, ()):
                    counts[key] += 1
        for path, table in self._ne.items():
            value = _lookup(event, path)
            if value is _MISSING:
                continue
            for literal, keys in table.items():  # every "!=" the event satisfies counts
                if literal != value:
                    for key in keys:
                        counts[key] += 1
        for (path, op), ordered in self._ord.items():
            value = _lookup(event, path)
            if type(value) in (int, float):
                for key in ordered.satisfied(op, value):
                    counts[key] += 1
        return counts

    def match(self, event: dict[str, Any]) -> set[str]:
        """Run ids of the listeners the event cancels. Complexity: O(satisfied predicates +
        always-evaluated listeners), which for ranges and ``!=`` is O(pending listeners)."""
        size, mixed, listeners, evaluate = self._size, self._mixed, self._listeners, self._evaluate
        runs: set[str] = set()
        for key, count in self._count(event).items():
            if count >= size[key] or key in mixed:
                spec = listeners[key]
                if evaluate(spec, event):
                    runs.add(spec.run_id)
        for key in self._always:
            spec = listeners[key]
            if evaluate(spec, event):
                runs.add(spec.run_id)
        return runs
