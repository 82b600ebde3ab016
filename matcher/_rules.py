"""Rules: Inngest's ``cancelOn`` {match, if} as one CEL expression, and compiling a rule.

``match: "data.reminderId"`` means ``event.data.reminderId == async.data.reminderId``;
``match`` and ``if`` together are combined with ``&&`` (stricter, never silently dropped).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from . import _ast as A
from ._checker import can_be, check_rule
from ._compile import compile
from ._errors import CompileError
from ._limits import DEFAULT_LIMITS, Limits
from ._parser import RESERVED
from ._program import Program

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


def compile_rule(expression: str, variables: Iterable[str] = ("event", "async"), *,
                 limits: Limits = DEFAULT_LIMITS) -> Program:
    """Compile a rule (a cancel rule's ``if``, or its combined expression): ``compile``,
    and also a CompileError when the result can never be a ``bool`` (``x + 1``, a string,
    a list...) — such a rule would be stored and never fire.

    Its worst-case cost is estimated too (``Program.estimated_cost``): a rule that may spend
    more than ``limits.max_cost`` on events of ``limits.cost_input_size`` is refused with a
    CompileError of kind ``Limit`` that gives the estimate (a rule cut off at run time
    would silently never cancel). The Program's ``warnings`` say what else looks wrong.

    Complexity: a compile, one check pass and one estimate pass over the AST.
    """
    program = compile(expression, variables, limits=limits)
    if not can_be(program.static_type, "bool"):
        check_rule(program.ast, expression, program.variables, limits)  # raises, positioned
    cost = program.estimated_cost()
    if cost > limits.max_cost:
        raise CompileError(
            f"the rule's estimated cost is {cost:,} units, over the limit of "
            f"{limits.max_cost:,} (Limits.max_cost) for events whose lists, maps and strings "
            f"hold up to {limits.cost_input_size} elements (nested macros multiply their costs)",
            expression, program.ast.pos, kind="Limit")
    return program


def budget_warning(program: Program, max_input_size: int) -> str | None:
    """A warning when an event of at most ``max_input_size`` elements per value can make one
    evaluation of ``program`` spend more than its budget (None when none can): such an
    evaluation is cut off and the event does not match. The warning gives a size (within a
    factor of two) up to which the rule is certain to be evaluated in full. Only rules with
    a macro get one: without a loop, one evaluation is bounded by the expression's length."""
    if not any(isinstance(n, A.Comprehension) for n in A.walk(program.ast)):
        return None
    largest = program.largest_input(max_input_size)
    if largest is None or largest >= max_input_size:
        return None
    return (f"the rule's cost grows with the event: for lists, maps or strings of more than "
            f"about {largest:,} elements an evaluation may exceed its budget of "
            f"{program.limits.max_cost:,} units and is cut off (the event does not match)")
