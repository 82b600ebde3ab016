"""Cost: the evaluation cost model — what generated code charges, and a static estimate.

One unit is about one step of evaluation (15-30 ns here). At run time an evaluation
spends from a budget (``Limits.max_cost``) and is aborted when it runs out:

* every comprehension iteration costs ``iteration_cost``: 1 plus the nodes of its body
  that run once per iteration (``node_cost``: a call or arithmetic counts ``CALL_COST``;
  a nested macro's own body charges its own iterations);
* every string, bytes or list built by ``+`` (or copied by ``string()`` / ``bytes()``)
  costs ``value_cost`` of its length (one unit per ``SIZE_PER_UNIT`` characters or
  elements), charged *before* it is built, so what one evaluation allocates is bounded by
  the budget, not by the input;
* ``in`` over a list costs ``ELEMENT_COST`` per element, and ``==`` between lists or
  maps as much per element pair compared (nesting included): Python-level loops over an
  event's data;
* ``contains`` and ``matches`` on a string longer than 1,024 characters cost one unit per
  ``SCAN_UNIT`` characters.

Everything else is a fixed amount of work per node, or a pass in C over one value
(comparing two strings, a prefix test), bounded by the size of the expression.

``estimate`` is the static counterpart, as cel-go's ``checker.Cost``: the worst case over
every path through the expression, given that every value read from a variable has at
most ``input_size`` elements and characters in total. It counts one unit per node too,
so it is never below what an evaluation within those sizes charges (a property test
checks that).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from . import _ast as A

ELEMENT_COST = 2
"""Units per element ``in`` and list/map ``==`` compare (a Python-level comparison)."""

SCAN_UNIT = 32
"""Characters a string search (``contains``, ``matches``) reads per unit, past the first
1,024 (``_charged.SCAN_FREE``): a search is a pass in C, about 1 ns per character."""

SIZE_PER_UNIT = 8
"""Characters (or list elements) built per cost unit. Eight keeps what a whole budget can
allocate to a few MB (a list slot is 8 bytes; a str character at most 4) while a rule
that joins two ordinary event strings spends a few units."""


def value_cost(length: int) -> int:
    """Units charged for building a string, bytes or list of ``length``."""
    return 1 + length // SIZE_PER_UNIT


CALL_COST = 3
"""Units of a function call or an arithmetic operator: a call into the runtime takes two
to three times as long as reading a field or comparing with a literal."""


def node_cost(node: A.Expr) -> int:
    """Units of evaluating ``node`` itself, its operands aside."""
    if isinstance(node, A.Literal):
        return 0
    if isinstance(node, A.Call) or (isinstance(node, A.Binary) and node.op in "+-*/%"):
        return CALL_COST
    if isinstance(node, A.ListExpr):
        return 1 + len(node.items)  # every slot is filled
    if isinstance(node, A.MapExpr):
        return 1 + CALL_COST * len(node.entries)
    return 1


def nodes(node: A.Expr) -> int:
    """Units of the nodes of ``node`` that do work when it is evaluated once: the larger
    branch of a ``?:``, and not the bodies of macros inside it, which charge per iteration
    themselves. (The AST is at most ``Limits.max_depth`` deep: recursion is safe.)"""
    if isinstance(node, A.Comprehension):
        return 1 + nodes(node.range)
    if isinstance(node, A.Conditional):
        return 1 + nodes(node.cond) + max(nodes(node.then), nodes(node.otherwise))
    return node_cost(node) + sum(nodes(k) for k in A.children(node))


def iteration_cost(node: A.Comprehension) -> int:
    """Units one iteration of the macro ``node`` charges (before its body runs)."""
    body = nodes(node.predicate)
    if node.transform is not None:
        body += nodes(node.transform)
    return 1 + body


class _Bound(NamedTuple):
    """Worst case of one sub-expression: its cost, and the size of its value — ``length``
    (top-level elements or characters) and ``deep`` (all nesting levels together)."""

    cost: float
    length: float = 0
    deep: float = 0


_LITERAL_CONTAINERS = (A.ListExpr, A.MapExpr, A.Literal)
"""``in`` over these is not charged at run time: their size is fixed by the expression."""

_SCALAR_TEXT = 32
"""Characters of the longest string(x) of a number, bool, timestamp or duration."""

_SPLIT_DEPTH = 2
"""Nesting levels of macros estimated with the two-point bound below (each doubles the
work of estimating what is inside); deeper ones multiply plainly — still an upper bound,
only looser — so estimating stays within 4x a single pass over the AST."""


class _Estimator:
    """Every bound is a convex, nondecreasing function of the sizes it depends on (sums,
    products and maxima of such, never a minimum): that is what makes the two-point bound
    of ``e_Comprehension`` sound."""

    def __init__(self, input_size: int) -> None:
        self.input = _Bound(1, input_size, input_size)
        self.splits = 0

    def go(self, node: A.Expr, scope: dict[str, _Bound]) -> _Bound:
        method = getattr(self, "e_" + type(node).__name__)
        return method(node, scope)  # type: ignore[no-any-return]

    def e_Literal(self, node: A.Literal, scope: dict[str, _Bound]) -> _Bound:
        v = node.value
        if type(v) is A.Slot:  # a trigger value: any value of an input
            return _Bound(0, self.input.length, self.input.deep)
        if type(v) in (str, bytes):
            return _Bound(0, len(v), len(v))
        return _Bound(0)

    def e_Ident(self, node: A.Ident, scope: dict[str, _Bound]) -> _Bound:
        return scope[node.name] if A.in_scope(node, scope) else self.input

    def _part(self, operand: _Bound, *more: _Bound) -> _Bound:
        # A field, element or key of a value is at most as large as the whole value.
        return _Bound(1 + operand.cost + sum(m.cost for m in more), operand.deep, operand.deep)

    def e_Select(self, node: A.Select, scope: dict[str, _Bound]) -> _Bound:
        operand = self.go(node.operand, scope)
        return _Bound(1 + operand.cost) if node.test_only else self._part(operand)

    def e_Index(self, node: A.Index, scope: dict[str, _Bound]) -> _Bound:
        return self._part(self.go(node.operand, scope), self.go(node.index, scope))

    def e_Unary(self, node: A.Unary, scope: dict[str, _Bound]) -> _Bound:
        return _Bound(1 + self.go(node.operand, scope).cost)

    def e_Binary(self, node: A.Binary, scope: dict[str, _Bound]) -> _Bound:
        left, right = self.go(node.left, scope), self.go(node.right, scope)
        cost = node_cost(node) + left.cost + right.cost
        if node.op == "+":
            length = left.length + right.length
            return _Bound(cost + 1 + length / SIZE_PER_UNIT, length, left.deep + right.deep)
        literal = isinstance(node.left, A.Literal) or isinstance(node.right, A.Literal)
        if node.op in ("==", "!=") and not literal:
            # Element pairs compared: at most the smaller side's, so at most the mean.
            return _Bound(cost + 1 + ELEMENT_COST * (left.deep + right.deep) / 2)
        if node.op == "in" and not isinstance(node.right, _LITERAL_CONTAINERS):
            return _Bound(cost + 1 + ELEMENT_COST * (right.length + right.deep))
        return _Bound(cost)

    def e_And(self, node: A.And | A.Or, scope: dict[str, _Bound]) -> _Bound:
        return _Bound(1 + sum(self.go(t, scope).cost for t in node.terms))

    e_Or = e_And

    def e_Conditional(self, node: A.Conditional, scope: dict[str, _Bound]) -> _Bound:
        cond = self.go(node.cond, scope)
        a, b = self.go(node.then, scope), self.go(node.otherwise, scope)
        return _Bound(1 + cond.cost + max(a.cost, b.cost), max(a.length, b.length),
                      max(a.deep, b.deep))

    def e_ListExpr(self, node: A.ListExpr, scope: dict[str, _Bound]) -> _Bound:
        items = [self.go(i, scope) for i in node.items]
        n = len(items)
        return _Bound(1 + n + sum(i.cost for i in items), n, n + sum(i.deep for i in items))

    def e_MapExpr(self, node: A.MapExpr, scope: dict[str, _Bound]) -> _Bound:
        parts = [self.go(x, scope) for kv in node.entries for x in kv]
        n = len(node.entries)
        return _Bound(node_cost(node) + sum(p.cost for p in parts), n,
                      n + sum(p.deep for p in parts))

    def e_Call(self, node: A.Call, scope: dict[str, _Bound]) -> _Bound:
        args = [self.go(a, scope) for a in node.args]
        if node.target is not None:
            args.insert(0, self.go(node.target, scope))
        cost = node_cost(node) + sum(a.cost for a in args)
        if node.function in ("string", "bytes") and len(args) == 1:  # a copy: charged
            length = max(args[0].deep, _SCALAR_TEXT)
            return _Bound(cost + 1 + length / SIZE_PER_UNIT, length, length)
        if node.function == "dyn" and len(args) == 1:
            return _Bound(cost, args[0].length, args[0].deep)
        if node.function in ("contains", "matches"):  # one pass over the receiver
            return _Bound(cost + args[0].length / SCAN_UNIT)
        return _Bound(cost)

    def _iteration(self, node: A.Comprehension, scope: dict[str, _Bound],
                   size: float) -> tuple[float, _Bound]:
        """(cost of one iteration, bound of its transform's value) for an element of
        ``size`` (all nesting levels)."""
        inner = {**scope, node.var: _Bound(1, size, size)}  # reading the variable: 1
        body = self.go(node.predicate, inner)
        if node.transform is None:
            return 1 + body.cost, body
        result = self.go(node.transform, inner)
        return 1 + body.cost + result.cost, result

    def e_Comprehension(self, node: A.Comprehension, scope: dict[str, _Bound]) -> _Bound:
        rng = self.go(node.range, scope)
        n, total = rng.length, rng.deep
        if self.splits < _SPLIT_DEPTH:
            # The elements' sizes add up to at most `total`. For a convex per-iteration
            # cost f, the sum of f over the elements is at most n*f(0) + f(total): one
            # element holding everything is the worst case (so a macro over the parts of
            # each element costs the whole input once, not once per element).
            self.splits += 1
            each_empty, empty = self._iteration(node, scope, 0)
            each_full, full = self._iteration(node, scope, total)
            self.splits -= 1
            loops = n * each_empty + each_full
            built = n * (1 + empty.deep) + full.deep
        else:
            each_full, full = self._iteration(node, scope, total)
            loops, built = n * each_full, n * (1 + full.deep)
        cost = 1 + rng.cost + loops
        if node.kind == "map":
            return _Bound(cost, n, built)
        if node.kind == "filter":
            return _Bound(cost, n, total)
        return _Bound(cost)


def estimate(tree: A.Expr, input_size: int) -> int:
    """Worst-case units of one evaluation of ``tree`` when every value read from a variable
    (or bound from the trigger) holds at most ``input_size`` elements and characters in
    total (nesting included).

    Complexity: O(n) in the nodes of ``tree`` (at most 4n node visits).
    """
    return math.ceil(_Estimator(input_size).go(tree, {}).cost)


def largest_input(tree: A.Expr, budget: int, ceiling: int, start: int) -> int | None:
    """About the largest input size (up to ``ceiling``) for which ``estimate`` stays within
    ``budget``: ``start`` doubled until it does not (so within a factor of two, from
    below); None when the estimate does not grow with the input at all.

    Complexity: O(n log(ceiling / start)) — one estimate per doubling.
    """
    if estimate(tree, ceiling) == estimate(tree, 0):
        return None
    size = max(start, 1)
    if estimate(tree, size) > budget:
        return 0
    while size * 2 <= ceiling and estimate(tree, size * 2) <= budget:
        size *= 2
    return size
