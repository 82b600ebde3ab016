"""Fuzz surface ``cel_compile``: random and mutated CEL into matcher.compile, evaluation and
the listener index, in-process.

Property: compiling raises nothing but CompileError; evaluating returns a value or an
EvalError (never raises); the value has a JSON form; a rule the index accepts can be
matched against an event; every input is answered within the liveness bound.
"""

from __future__ import annotations

import json
import random
from typing import Any

import gen_cel
import gen_json
from fuzz_harness import inputs, run_inputs, shorten, surface

import matcher
from server import _jsonscan
from server.expressions import to_json

VARIABLES = ("event", "async")


def _activation(rng: random.Random) -> dict[str, Any]:
    def event() -> dict[str, Any]:
        data = gen_json.value(rng)
        text = json.dumps({"name": "e", "id": "i", "ts": 1, "data": data})
        if _jsonscan.scan(text, 64) is not None:  # the service would refuse it
            return {"name": "e", "id": "i", "ts": 1, "data": {}}
        return dict(matcher.loads_json(text))
    return {"event": event(), "async": event()}


def _check(text: str, activation: dict[str, Any], index: matcher.ListenerIndex,
           n: int) -> tuple[str, str | None]:
    try:
        prog = matcher.compile(text, variables=VARIABLES)
    except matcher.CompileError:
        return "compile_error", None
    value = prog.try_evaluate(activation)
    if isinstance(value, matcher.EvalError):
        outcome = "eval_error"
    else:
        json.dumps(to_json(value))
        outcome = "value"
    res = index.add(f"l{n}", event="e", expression=text, trigger=activation["event"],
                    run_id=f"r{n}", env="fuzz")
    index.match({**activation["async"], "name": "e"}, env="fuzz")
    if res.stored:
        index.remove_run(f"r{n}")
    return outcome, None


def test_random_and_mutated_cel_compile_and_evaluate() -> None:
    s = surface("cel_compile")
    index = matcher.ListenerIndex()
    counter = [0]

    def make(rng: random.Random) -> tuple[str, dict[str, Any]]:
        return gen_cel.text(rng), _activation(rng)

    def send(item: tuple[str, dict[str, Any]]) -> tuple[str, str | None]:
        text, activation = item
        counter[0] += 1
        try:
            return _check(text, activation, index, counter[0])
        except matcher.CompileError:
            return "index_compile_error", None
        except Exception as exc:  # noqa: BLE001 - the finding itself
            return "crash", f"{type(exc).__name__}: {exc} for {shorten(text)}"

    run_inputs(s, inputs(10_000), make, send, workers=1)  # one thread: the index is not shared
    assert not s.failures, "\n".join(s.failures)
    assert s.outcomes["value"] > inputs(10_000) // 50, s.outcomes  # the fuzzer reaches evaluation
