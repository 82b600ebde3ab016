"""Rules: Inngest's ``cancelOn`` {match, if} as one CEL expression, and rule explanation.

``match: "data.reminderId"`` means ``event.data.reminderId == async.data.reminderId``;
``match`` and ``if`` together are combined with ``&&`` (stricter, never silently dropped).
"""

from __future__ import annotations

import re
from typing import Any

from . import _ast as A
from ._errors import CompileError
from ._interpolate import split_rule
from ._parser import RESERVED, parse
from ._plans import PLANS

_SEGMENT = re.compile(r"[^.\s\[\]\"'`]+")


def _match_path(match: str) -> str:
    """``data.reminderId`` → ``.data.reminderId``; odd segments become ``["my-key"]``."""
    if not match or match != match.strip():
        raise CompileError("match must be a dotted field path such as data.reminderId",
                           match, 0, kind="Syntax error")
    out = []
    offset = 0
    for seg in match.split("."):
        if not _SEGMENT.fullmatch(seg):
            raise CompileError(f"match path segment {seg!r} is not a field name; expected a "
                               "dotted path such as data.reminderId", match, offset,
                               kind="Syntax error")
        ident = seg.isidentifier() and seg.isascii() and seg not in RESERVED | {"in", "true", "false", "null"}
        out.append(f".{seg}" if ident else f'["{seg}"]')
        offset += len(seg) + 1
    return "".join(out)


def cancel_expression(match: str | None = None, condition: str | None = None) -> str:
    """The CEL expression of a cancel rule; "" (every event of that name) when both are empty.

    Raises CompileError for a malformed match path (the condition is compiled later,
    where its errors get positions in its own text).
    """
    parts = []
    if match:
        path = _match_path(match)
        parts.append(f"event{path} == async{path}")
    if condition and condition.strip():
        parts.append(f"({condition})" if parts else condition)
    return " && ".join(parts)


def explain(expression: str, trigger: dict[str, Any] | None = None) -> dict[str, Any]:
    """How a rule would be indexed: residual, DNF clauses and the access of each.

    Without a trigger event, the ``event`` values stay symbolic (shown as their source).
    Raises CompileError for a bad expression.
    """
    from ._checker import check
    from ._index import explain_plan

    tree = parse(expression) if expression.strip() else A.Literal(True)
    check(tree, expression, frozenset({"event", "async"}))
    rule = split_rule(expression, tree)
    if trigger is None:
        # Unknown trigger values are planned as strings, the overwhelmingly common case
        # (ids); the output shows them as their source text.
        return explain_plan(rule, PLANS.plan_for(rule, ["" for _ in rule.holes]), None)
    values = rule.evaluate_holes(trigger)
    return explain_plan(rule, PLANS.plan_for(rule, values), values)
