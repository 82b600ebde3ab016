"""Expression tools: validate, explain and evaluate CEL rules (the Expressions API's core).

Pure functions over the matcher package; the gRPC servicer, the REST handlers and the
CLI's ``validate``/``explain``/``eval`` all call these.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import matcher

from . import _validate as check
from ._model import Rule
from .config import Config
from .errors import InvalidArgument, InvalidExpression

USAGES = ("cancel_if", "match", "bulk_if")


@dataclass
class Validation:
    valid: bool
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


def _path_text(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def validate(expression: str, usage: str, config: Config | None = None) -> Validation:
    """Whether ``expression`` is valid where it will be used; errors carry positions.

    The same checks as registration: it must compile, be able to be a bool, and have an
    estimated cost within the evaluation budget (``matcher.compile_rule``). Warnings say
    what looks wrong although it is valid, and from which event size the rule may be cut
    off by its budget.
    """
    config = config or Config()
    if usage not in USAGES:
        raise InvalidArgument(f"usage: unknown value {usage!r}: expected one of {USAGES}")
    check.expression_size(expression, "expression", config)
    if not expression:
        if usage == "bulk_if":
            return Validation(True, warnings=["no if: every run in the window is cancelled"])
        return Validation(True, warnings=[
            "neither match nor if is set: the rule cancels the run on every event of its name"
        ])
    try:
        if usage == "match":
            combined = matcher.cancel_expression(match=expression, condition="")
            prog = matcher.compile_rule(combined, variables=check.CANCEL_VARIABLES)
        else:
            variables = check.BULK_VARIABLES if usage == "bulk_if" else check.CANCEL_VARIABLES
            prog = matcher.compile_rule(expression, variables=variables)
    except matcher.CompileError as exc:
        return Validation(False, errors=[exc.to_dict()])
    paths = [_path_text(p) for p in prog.paths]
    warnings = list(prog.warnings)
    if usage == "cancel_if" and not any(p.startswith("async") for p in paths):
        warnings.append("the expression never reads async (the incoming event): it is "
                        "decided by the trigger alone")
    budget = matcher.budget_warning(prog, config.max_event_bytes)
    if budget is not None:
        warnings.append(budget)
    return Validation(True, warnings=warnings, paths=paths)


def explain(rule: Rule, trigger: dict[str, Any] | None = None,
            config: Config | None = None) -> dict[str, Any]:
    """How a rule is indexed for ``trigger``; without one, what the plan depends on."""
    config = config or Config()
    check.required(rule.event, "rule.event")
    (expression, warnings), = check.rules((rule,), "rule", config)
    if trigger is None:
        return _explain_symbolic(expression, warnings)
    index = matcher.ListenerIndex()
    try:
        res = index.add("explain", event=rule.event, expression=expression, trigger=trigger,
                        run_id="explain", env="explain")
    except matcher.CompileError as exc:
        raise InvalidExpression("rule", exc) from None
    detail = index.explain("explain") if res.stored else {}
    return {"expression": expression, "residual": res.residual, "status": res.status,
            "reason": res.reason or "", "access": list(getattr(res, "access", ())),
            "warnings": warnings, "explain": detail}


NO_TRIGGER_REASON = (
    "no trigger given: the plan shown assumes every event.* value is a string; "
    "explain.depends_on lists the plan each JSON type gets")


def _explain_symbolic(expression: str, warnings: list[str]) -> dict[str, Any]:
    """Explain without a trigger: event values stay symbolic, and ``depends_on`` (from
    ``matcher.explain``) says how their types change the plan, rather than reporting the
    plan of some made-up trigger (an empty one makes most rules 'never fire')."""
    detail = matcher.explain(expression)
    varies = bool(detail.get("depends_on"))
    never = detail["never_fires"] and not varies
    access = [c["access"] for c in detail["clauses"]]
    return {"expression": expression, "residual": detail["residual"],
            "status": "never_fires" if never else "stored",
            "reason": NO_TRIGGER_REASON if varies else "", "access": access,
            "warnings": warnings, "explain": detail}


def evaluate(expression: str, event_json: str = "", async_json: str = "",
             config: Config | None = None) -> dict[str, Any]:
    """Evaluate against sample events: {"result": JSON-ready value, "type", "error"}."""
    config = config or Config()
    check.expression_size(expression, "expression", config)
    activation = {
        "event": check.event_data(event_json, "event", config) if event_json else {},
        "async": check.event_data(async_json, "async", config) if async_json else {},
    }
    try:
        prog = matcher.compile(expression, variables=check.CANCEL_VARIABLES)
    except matcher.CompileError as exc:
        raise InvalidExpression("expression", exc) from None
    value = prog.try_evaluate(activation)
    if isinstance(value, matcher.EvalError):
        return {"result": None, "type": "", "error": value.message}
    return {"result": to_json(value), "type": matcher.cel_type_name(value), "error": ""}


def to_json(value: Any) -> Any:
    """A JSON-ready form of a CEL value (bytes as base64, timestamps as RFC 3339...)."""
    if value is None or isinstance(value, bool | float | str):
        return value
    if isinstance(value, int):
        return int(value)  # uint too: JSON has one integer kind
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return str(value)


def dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=True)
