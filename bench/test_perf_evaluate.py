"""Micro-benchmarks: evaluation of one compiled rule — ours vs cel-expr-python vs cel-python.

cel-expr-python gets a prebuilt activation (its fastest path); cel-python gets its values
converted once. Issue 2's targets: ours ≤ 1 µs for two_clause and ≥ 5× cel-expr-python.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bench.conftest import RULES


def _ours(matcher: Any, text: str, activation: dict[str, Any]) -> Callable[[], Any]:
    program = matcher.compile(text, variables=("event", "async"))
    return lambda: program.evaluate(activation)


def _cel_expr(text: str, activation: dict[str, Any]) -> Callable[[], Any]:
    cel = pytest.importorskip("cel_expr_python.cel")
    env = cel.NewEnv(variables={"event": cel.Type.DYN, "async": cel.Type.DYN})
    program = env.compile(text)
    prebuilt = env.Activation(activation)
    return lambda: program.eval(prebuilt).value()


def _cel_python(text: str, activation: dict[str, Any]) -> Callable[[], Any]:
    celpy = pytest.importorskip("celpy")
    env = celpy.Environment()
    program = env.program(env.compile(text))
    converted = {k: celpy.json_to_cel(v) for k, v in activation.items()}
    return lambda: bool(program.evaluate(converted))


@pytest.mark.parametrize("rule", list(RULES))
@pytest.mark.parametrize("engine", ["ours", "cel_expr_python", "cel_python"])
def test_evaluate(benchmark: Any, request: pytest.FixtureRequest, engine: str, rule: str) -> None:
    text, activation = RULES[rule]
    benchmark.group = f"evaluate {rule}"
    if engine == "ours":
        fn = _ours(request.getfixturevalue("matcher_compiler"), text, activation)
    elif engine == "cel_expr_python":
        fn = _cel_expr(text, activation)
    else:
        fn = _cel_python(text, activation)
    assert benchmark(fn) is True
