"""Interpolate: split a rule into ``event``-only holes and a residual over ``async``.

A *hole* is a maximal subtree that reads no variable but ``event`` (and is not already a
literal): ``event.data.reminderId`` in ``event.data.reminderId == async.data.reminderId``.
Holes are compiled once per rule text; adding a listener evaluates them against its
trigger event (partial evaluation) and binds the values into a plan built once per rule
and value *types* — per-registration work is substitution, never parsing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import _ast as A
from ._errors import EvalError, EvaluationAborted
from ._limits import DEFAULT_LIMITS
from ._program import Program, build
from ._values import UInt

HOLE_VARIABLES = frozenset({"event"})


@dataclass(frozen=True, slots=True)
class Rule:
    """A parsed rule: its template (holes as ``Literal(Slot(i, object))``) and hole programs."""

    text: str
    template: A.Expr
    holes: tuple[A.Expr, ...]
    programs: tuple[Program, ...]

    def evaluate_holes(self, trigger: Any) -> tuple[Any, ...]:
        """Hole values for one trigger event; a CEL error becomes an ErrorValue.

        All holes share one cost budget (``Limits.max_cost``), as one evaluation of the
        rule would: a registration costs at most that much, however expensive its
        trigger-only part (a hole that runs out makes the rule never fire).

        A tuple: it outlives the call (listeners keep it for explain), and CPython's
        collector stops tracking tuples of plain values, which keeps registration cheap.
        """
        if not self.programs:
            return ()
        act = {"event": trigger}
        budget = [DEFAULT_LIMITS.max_cost, DEFAULT_LIMITS.max_cost]
        return tuple(_hole_value(p.evaluate_within(act, budget)) for p in self.programs)


def _hole_value(v: Any) -> Any:
    if isinstance(v, EvalError):
        return A.ErrorValue(v.message, aborted=isinstance(v, EvaluationAborted))
    return v


def _is_hole(node: A.Expr, bound: frozenset[str]) -> bool:
    """Does ``node`` read the trigger and nothing else? ``bound`` holds the comprehension
    variables around it: one of those named ``event`` is not the trigger, and a subtree
    that reads one (``x`` in ``l.all(x, x != event.data.y)``) depends on the iteration."""
    if isinstance(node, A.Literal) or A.reads_bound(node, bound):
        return False
    free = A.free_variables(node, bound)
    return free == {"event"} or (not free and not isinstance(node, A.Ident))


def split_rule(text: str, tree: A.Expr) -> Rule:
    """Find the holes of ``tree`` top-down (maximal subtrees) and compile each."""
    holes: list[A.Expr] = []

    def walk(node: A.Expr, bound: frozenset[str]) -> A.Expr:
        if _is_hole(node, bound):
            holes.append(node)
            return A.Literal(A.Slot(len(holes) - 1, object), pos=node.pos)
        kids = A.scoped_children(node, bound)
        if not kids:
            return node
        return A.with_children(node, tuple(walk(k, b) for k, b in kids))

    template = walk(tree, frozenset())
    programs = tuple(build(text, h, HOLE_VARIABLES, DEFAULT_LIMITS)[0] for h in holes)
    return Rule(text, template, tuple(holes), programs)


ABORTED = "aborted"
"""Signature entry of a hole whose evaluation ran out of budget."""


def signature(values: Sequence[Any]) -> tuple[Any, ...]:
    """What a plan depends on: bools by value, errors as such, everything else by type."""
    out: list[Any] = []
    for v in values:
        t = type(v)
        if t is bool:
            out.append(v)
        elif t is A.ErrorValue:
            out.append(ABORTED if v.aborted else A.ErrorValue)
        else:
            out.append(t)
    return tuple(out)


ERROR_LITERAL_TYPE = A.ErrorValue


def specialize(template: A.Expr, sig: tuple[Any, ...]) -> A.Expr:
    """Template with each slot typed by ``sig``; bools become real literals. A hole that
    ran out of budget makes the whole rule ``false``: it cannot be evaluated at all."""
    if ABORTED in sig:
        return A.Literal(False, pos=template.pos)

    def fn(lit: A.Literal) -> A.Literal:
        v = lit.value
        if type(v) is not A.Slot:
            return lit
        s = sig[v.index]
        if s is True or s is False:
            return A.Literal(s, pos=lit.pos)
        return A.Literal(A.Slot(v.index, s), pos=lit.pos)

    return A.map_literals(template, fn)


def bind_values(node: A.Expr, values: Sequence[Any]) -> A.Expr:
    """Replace every slot by its value (for display: residual text, explain)."""

    def fn(lit: A.Literal) -> A.Literal:
        v = lit.value
        return A.Literal(values[v.index], pos=lit.pos) if type(v) is A.Slot else lit

    return A.map_literals(node, fn)


SCALAR_KEY_TYPES = (str, bytes, int, UInt, float, bool, type(None))
