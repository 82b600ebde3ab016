"""Conformance harness: loads cel-spec's simple tests (../shared/cel-conformance) and runs one.

Not a test module. It reads the JSON files described in the data's README, turns their TYPED
values into our value model (matcher/_values.py), runs a case through ``matcher.compile`` and
compares by CEL value equality as simple.proto asks: map entry order does not matter, a NaN
matches any NaN, and ``int``, ``uint`` and ``double`` are *different* result types (``{"int":
"1"}`` is not ``{"uint": "1"}``), so every comparison checks the exact type first.

Run it directly for a failure report grouped by file (``--all`` for the whole suite)::

    python tests/matcher/conformance.py [--all]
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import math
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
"""The project root: the parent of ``tests/``."""

DATA_DIR = Path(os.environ.get("CEL_CONFORMANCE_DIR") or ROOT.parent / "shared" / "cel-conformance")
"""``../shared/cel-conformance`` relative to the project root (absent on a user's machine);
the environment variable ``CEL_CONFORMANCE_DIR`` points elsewhere."""

KNOWN_FAILURES = Path(__file__).with_name("conformance_known_failures.txt")

MISSING_MESSAGE = f"CEL conformance tests skipped: {DATA_DIR} not found (../shared is absent)"


def available() -> bool:
    """True when the conformance JSON (and its CORE.txt) can be read."""
    return (DATA_DIR / "CORE.txt").is_file()


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One conformance test, as the JSON gives it (values stay TYPED until ``activation``)."""

    id: str  # "file/section/name", exactly as CORE.txt spells it
    expr: str
    bindings: dict[str, Any]  # name -> TYPED
    type_env: tuple[dict[str, Any], ...]
    expect: dict[str, Any]
    container: str
    check_only: bool
    disable_check: bool
    needs_proto: bool
    extension: str | None

    @property
    def file(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def variables(self) -> tuple[str, ...]:
        """Every binding name and every declared identifier, sorted (all declared dyn)."""
        idents = {d["name"] for d in self.type_env if d.get("kind") == "ident"}
        return tuple(sorted(set(self.bindings) | idents))

    def activation(self) -> dict[str, Any]:
        return {name: to_value(typed) for name, typed in self.bindings.items()}

    def skip_reason(self) -> str | None:
        """Why this case is out of scope for a JSON-only CEL (None when it is in scope)."""
        if self.needs_proto:
            return "needs protobuf message or enum types"
        if self.check_only:
            return "check-only test (type deduction only, nothing to evaluate)"
        if self.container:
            return f"needs name resolution in container {self.container!r}"
        return None


def _read(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def iter_cases() -> Iterator[Case]:
    """Every test of every JSON file, in file order then source order.

    Duplicate names within a section (an upstream quirk, never in CORE) get ``#2``, ``#3``...
    """
    for path in sorted(DATA_DIR.glob("*.json")):
        doc = _read(path)
        for section in doc["sections"]:
            seen: dict[str, int] = {}
            for t in section["tests"]:
                n = seen[t["name"]] = seen.get(t["name"], 0) + 1
                suffix = f"#{n}" if n > 1 else ""
                yield Case(
                    id=f"{doc['file']}/{section['name']}/{t['name']}{suffix}",
                    expr=t["expr"],
                    bindings=t["bindings"],
                    type_env=tuple(t.get("type_env", ())),
                    expect=t["expect"],
                    container=t["container"],
                    check_only=t["check_only"],
                    disable_check=t["disable_check"],
                    needs_proto=t["needs_proto"],
                    extension=t.get("extension", doc.get("extension")),
                )


@functools.lru_cache(maxsize=1)
def all_cases() -> tuple[Case, ...]:
    return tuple(iter_cases())


@functools.lru_cache(maxsize=1)
def core_cases() -> tuple[Case, ...]:
    """The CORE.txt subset, in CORE.txt order. Raises LookupError for a name not in the JSON."""
    by_id = {c.id: c for c in all_cases()}
    names = [ln for ln in (DATA_DIR / "CORE.txt").read_text(encoding="utf-8").splitlines() if ln]
    missing = [n for n in names if n not in by_id]
    if missing:
        raise LookupError(
            f"{len(missing)} CORE.txt names not found in the JSON, e.g. {missing[0]!r}")
    return tuple(by_id[n] for n in names)


def suite_cases() -> tuple[Case, ...]:
    """The whole suite in scope: every file, extensions included, minus proto and check-only."""
    return tuple(c for c in all_cases() if not c.needs_proto and not c.check_only)


def known_failures(path: Path = KNOWN_FAILURES) -> dict[str, str]:
    """``{id: reason}`` from the checked-in list: one ``file/section/name # reason`` a line.

    Raises ValueError naming the line for a line without a reason or a repeated id.
    """
    out: dict[str, str] = {}
    if not path.is_file():
        return out
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        test_id, sep, reason = line.partition(" # ")
        if not sep or not reason.strip():
            raise ValueError(f"{path.name}:{lineno}: expected '<id> # <reason>', got {raw!r}")
        if test_id.strip() in out:
            raise ValueError(f"{path.name}:{lineno}: {test_id.strip()!r} is listed twice")
        out[test_id.strip()] = reason.strip()
    return out


# --------------------------------------------------------------------------- TYPED -> value

_TIMESTAMP = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z")
_DURATION = re.compile(r"(-)?(\d+)(?:\.(\d{1,9}))?s")
_EPOCH = dt.datetime(1970, 1, 1)
_NANOS = 1_000_000_000


def _timestamp_nanos(text: str) -> int:
    m = _TIMESTAMP.fullmatch(text)
    if not m:
        raise ValueError(f"not an RFC 3339 UTC timestamp: {text!r}")
    *parts, frac = m.groups()
    secs = (dt.datetime(*map(int, parts)) - _EPOCH) // dt.timedelta(seconds=1)
    return secs * _NANOS + int((frac or "").ljust(9, "0"))


def _duration_nanos(text: str) -> int:
    m = _DURATION.fullmatch(text)
    if not m:
        raise ValueError(f"not a protobuf JSON duration: {text!r}")
    sign, secs, frac = m.groups()
    nanos = int(secs) * _NANOS + int((frac or "").ljust(9, "0"))
    return -nanos if sign else nanos


def _double(raw: float | str) -> float:
    if isinstance(raw, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[raw]
    return float(raw)


def to_value(typed: dict[str, Any]) -> Any:
    """Convert one TYPED value (see the data README) into our CEL value model.

    Raises ValueError for a form a JSON-only CEL cannot represent (messages without a
    ``cel_value``, enums), naming the form.
    """
    from matcher import _values as v

    (kind, raw), *rest = typed.items()
    if kind == "message" and "cel_value" in typed:
        return to_value(typed["cel_value"])
    if rest:
        raise ValueError(f"TYPED value with several keys: {sorted(typed)}")
    if kind == "null":
        return None
    if kind in ("bool", "string"):
        return raw
    if kind == "int":
        return int(raw)
    if kind == "uint":
        return v.UInt(int(raw))
    if kind == "double":
        return _double(raw)
    if kind == "bytes":
        return base64.b64decode(raw, validate=True)
    if kind == "list":
        return [to_value(x) for x in raw]
    if kind == "map":
        return {to_value(k): to_value(x) for k, x in raw}
    if kind == "type":
        return v.TYPES.get(raw) or v.CelType(raw)
    if kind == "timestamp":
        return v.Timestamp(_timestamp_nanos(raw))
    if kind == "duration":
        return v.Duration(_duration_nanos(raw))
    raise ValueError(f"TYPED form {kind!r} has no counterpart in a JSON-only CEL")


# --------------------------------------------------------------------------- equality


def _key(value: Any) -> tuple[type, Any]:
    # Python says True == 1 == 1u; as map keys CEL keeps bool apart from numbers, and a
    # result keyed by 1u is not the expected result keyed by 1 (exact types, simple.proto).
    return (type(value), value)


def cel_equal(expected: Any, actual: Any) -> bool:
    """CEL value equality with exact result types: ``1`` does not match ``1u`` or ``1.0``.

    Map entry order is irrelevant; a NaN matches any NaN; -0.0 matches 0.0 (CEL equality).
    """
    from matcher import _values as v

    if type(expected) is not type(actual):
        return False
    if isinstance(expected, float):
        return expected == actual or (math.isnan(expected) and math.isnan(actual))
    if isinstance(expected, list):
        return len(expected) == len(actual) and all(map(cel_equal, expected, actual))
    if isinstance(expected, dict):
        got = {_key(k): x for k, x in actual.items()}
        if len(got) != len(actual) or len(expected) != len(actual):
            return False
        return all(_key(k) in got and cel_equal(x, got[_key(k)]) for k, x in expected.items())
    if isinstance(expected, v.CelType):
        return str(expected) == str(actual)
    return bool(expected == actual)


def show(value: Any) -> str:
    """A short rendering that keeps types visible: ``1``, ``1u``, ``1.0``, ``b'x'``."""
    if isinstance(value, list):
        return "[" + ", ".join(map(show, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{show(k)}: {show(x)}" for k, x in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if type(value).__name__ == "CelType":
        return f"type({value})"
    return repr(value)


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class Outcome:
    """The result of running one case: ``passed`` and, when it did not, what happened."""

    passed: bool
    detail: str = ""


def _expected(case: Case) -> tuple[str, Any]:
    """("error", None) or ("value", value) from the case's matcher."""
    expect = case.expect
    if "error" in expect or "any_error" in expect:
        return "error", None
    if "value" in expect:
        return "value", to_value(expect["value"])
    if "typed_result" in expect and "value" in expect["typed_result"]:
        # We have no type deduction to compare; the evaluated value still must match.
        return "value", to_value(expect["typed_result"]["value"])
    raise ValueError(f"{case.id}: unsupported expectation {sorted(expect)}")


_OUTCOMES: dict[str, Outcome] = {}


def run(case: Case) -> Outcome:
    """Compile and evaluate one case (once per session; later calls reuse the outcome).

    Any EvalError or CompileError passes an error expectation. A Python exception other than
    matcher's own (TypeError, RecursionError, ...) is always a failure, reported as a crash:
    the compiler must never let one escape.
    """
    if case.id not in _OUTCOMES:
        _OUTCOMES[case.id] = _run(case)
    return _OUTCOMES[case.id]


def _run(case: Case) -> Outcome:
    import matcher

    kind, want = _expected(case)
    try:
        prog = matcher.compile(case.expr, variables=case.variables, check=not case.disable_check)
    except matcher.CompileError as e:
        return Outcome(kind == "error", f"compile error: {e.message} (col {e.column})")
    except Exception as e:  # reported as a crash, never hidden
        return Outcome(False, f"crash in compile: {type(e).__name__}: {e}")
    try:
        got = prog.evaluate(case.activation())
    except matcher.EvalError as e:
        if kind == "error":
            return Outcome(True)
        return Outcome(False, f"eval error: {e}; expected {show(want)}")
    except Exception as e:
        return Outcome(False, f"crash in evaluate: {type(e).__name__}: {e}")
    if kind == "error":
        return Outcome(False, f"expected an error ({case.expect['error']}), got {show(got)}")
    if cel_equal(want, got):
        return Outcome(True)
    return Outcome(False, f"expected {show(want)}, got {show(got)}")


def report(cases: tuple[Case, ...], out: Any = sys.stdout) -> float:
    """Print every failure with its expression, then the pass rate; returns the rate."""
    ran = [c for c in cases if c.skip_reason() is None]
    failed = [(c, run(c)) for c in ran]
    failed = [(c, o) for c, o in failed if not o.passed]
    for c, o in failed:
        print(f"{c.id}\n    expr: {c.expr!r}\n    {o.detail}", file=out)
    rate = 1 - len(failed) / len(ran) if ran else 0.0
    print(f"passed {len(ran) - len(failed)}/{len(ran)} ({rate:.2%}); "
          f"{len(cases) - len(ran)} out of scope", file=out)
    return rate


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    report(suite_cases() if "--all" in sys.argv[1:] else core_cases())
