"""CityLots: event-ruler's benchmark rule types as CEL cancel rules over real nested events.

Each rule of ``citylots-rules.json`` (event-ruler's CityLots2 rules) is translated to one CEL
listener over ``async.data`` with event-ruler's semantics (see bench-data/README.md §3): a list
of values is OR, several fields are AND; prefix / suffix / equals-ignore-case apply only to
strings; ``anything-but`` needs the field present and matches null; numeric ``=`` is double
equality and ``[">", a, "<", b]`` an open interval. Every feature of the sample is matched
against all 30 listeners; the per-rule counts are checked against brute force (each rule's
compiled program on each event) and against the sample counts published in the README.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from bench import baselines
from bench.workloads import ENV, EVENT_TS, ListenerSpec

SAMPLE_COUNTS = {
    "EXACT": [0, 0, 0, 0, 0],
    "PREFIX": [0, 0, 0, 0, 0],
    "SUFFIX": [14, 0, 0, 0, 0],
    "EQUALS_IGNORE_CASE": [12, 30, 236, 0, 371],
    "NUMERIC": [0, 0, 0, 0, 0],
    "ANYTHING_BUT": [386, 385, 15, 0, 386],
}
"""Matches on citylots-sample.jsonl, from the table in ../shared/bench-data/README.md."""

EVENT_NAME = "citylots/lot.updated"
_TRIGGER = {"name": "citylots/rules.loaded", "id": "trg-citylots", "ts": 0, "data": {}}
_NUMERIC_OPS = {"=": "==", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid CEL string escapes
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(value)
    raise ValueError(f"unsupported literal in pattern: {value!r}")


def _re2_escape(text: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "\\\\" + c for c in text)


def _leaf(path: str, condition: Any) -> str:
    if not isinstance(condition, dict):
        return f"{path} == {_literal(condition)}"
    ((kind, arg),) = condition.items()
    is_string = f"type({path}) == string"
    if kind == "prefix":
        return f"{is_string} && {path}.startsWith({_literal(arg)})"
    if kind == "suffix":
        return f"{is_string} && {path}.endsWith({_literal(arg)})"
    if kind == "equals-ignore-case":
        return f'{is_string} && {path}.matches("(?i)^{_re2_escape(arg)}$")'
    if kind == "anything-but":
        values = arg if isinstance(arg, list) else [arg]
        return f"has({path}) && !({path} in [{', '.join(map(_literal, values))}])"
    if kind == "numeric":
        terms = [
            f"{path} {_NUMERIC_OPS[op]} {_literal(v)}"
            for op, v in zip(arg[::2], arg[1::2], strict=True)
        ]
        return " && ".join(terms)
    raise ValueError(f"unsupported event-ruler condition {kind!r} at {path}")


def translate(pattern: dict[str, Any], prefix: str = "async.data") -> str:
    """An event-ruler pattern as a CEL expression over ``async.data``."""
    clauses = []
    for field, sub in pattern.items():
        path = f"{prefix}.{field}"
        if isinstance(sub, dict):
            clauses.append(translate(sub, path))
        elif isinstance(sub, list):
            options = [_leaf(path, c) for c in sub]
            clauses.append(
                options[0]
                if len(options) == 1
                else "(" + " || ".join(f"({o})" for o in options) + ")"
            )
        else:
            raise ValueError(f"pattern value at {path} must be an object or a list")
    return " && ".join(f"({c})" if "||" not in c and len(clauses) > 1 else c for c in clauses)


def load_rules(path: Path) -> list[tuple[str, int, str]]:
    """(type, position 1-5, CEL expression) for every rule, in source order."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [
        (kind, i + 1, translate(rule["pattern"]))
        for kind, rules in raw.items()
        for i, rule in enumerate(rules)
    ]


def load_events(path: Path) -> list[dict[str, Any]]:
    import matcher

    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        {"name": EVENT_NAME, "id": f"lot-{k}", "ts": EVENT_TS, "data": matcher.loads_json(line)}
        for k, line in enumerate(lines)
        if line.strip()
    ]


def _specs(rules: list[tuple[str, int, str]]) -> list[ListenerSpec]:
    return [
        ListenerSpec(f"{kind}-{pos}", f"run-{kind}-{pos}", EVENT_NAME, expr, _TRIGGER)
        for kind, pos, expr in rules
    ]


def _passes(fn: Any, events: list[dict[str, Any]], budget_s: float) -> tuple[float, list[Any]]:
    """Events per second over whole passes through ``events`` (at least one pass)."""
    done, answers, t0 = 0, [], time.perf_counter()
    while True:
        answers = [fn(e) for e in events]
        done += len(events)
        elapsed = time.perf_counter() - t0
        if elapsed > budget_s:
            return done / elapsed, answers


def _counts(specs: list[ListenerSpec], answers: list[set[str]]) -> dict[str, int]:
    return {s.run_id: sum(s.run_id in a for a in answers) for s in specs}


def _foreign(
    specs: list[ListenerSpec],
    residuals: list[str],
    events: list[dict[str, Any]],
    brute: list[set[str]],
    budget_s: float,
    cel_python_events: int,
) -> tuple[dict[str, float], dict[str, bool]]:
    """cel-expr-python over every event, cel-python over the first few; rates and checks."""
    rates, checks = {}, {}
    if baselines.cel_expr_available():
        scan = baselines.CelExprScan(specs, residuals)
        rates["scan_cel_expr"], answers = _passes(scan.match, events, budget_s)
        checks["cel_expr"] = answers == brute
    sub = events[:cel_python_events]
    rates["scan_cel_python"], answers = _passes(
        baselines.CelPyScan(specs, residuals).match, sub, 0.0
    )
    checks["cel_python_first_events"] = answers == brute[: len(sub)]
    return rates, checks


def run_citylots(
    data_dir: Path, *, budget_s: float = 2.0, cel_python_events: int = 40
) -> dict[str, Any]:
    """All 30 rules as listeners of one index; every sample feature matched against them."""
    import matcher

    rules = load_rules(data_dir / "citylots-rules.json")
    events = load_events(data_dir / "citylots-sample.jsonl")
    specs = _specs(rules)
    index, ours = matcher.ListenerIndex(), baselines.OurScan()
    residuals = [s.add_to(index).residual for s in specs]
    for s in specs:
        ours.add(s)
    rates: dict[str, float] = {}
    rates["index"], answers = _passes(
        lambda e: {m.run_id for m in index.match(e, env=ENV)}, events, budget_s
    )
    rates["scan_ours"], brute = _passes(ours.match, events, budget_s)
    got, want = _counts(specs, answers), _counts(specs, brute)
    foreign_rates, checks = _foreign(specs, residuals, events, brute, budget_s, cel_python_events)
    rates.update(foreign_rates)
    checks["brute_force"] = answers == brute
    rows = [{"type": kind, "rule": pos, "cel": expr, "matches": got[f"run-{kind}-{pos}"],
             "brute_force": want[f"run-{kind}-{pos}"],
             "readme": SAMPLE_COUNTS.get(kind, [None] * 5)[pos - 1]}
            for kind, pos, expr in rules]
    checks["readme_counts"] = all(r["matches"] == r["readme"] for r in rows)
    return {"events": len(events), "rules": len(rules), "events_per_s": rates,
            "cel_python_note": f"cel-python measured on the first {cel_python_events} events",
            "rows": rows, "checks": checks}
