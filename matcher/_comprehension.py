"""Generate (macros): lowering of all / exists / exists_one / map / filter to loops.

Split from ``_codegen`` because each macro has its own error rule (CEL spec, "Macros"):
``all`` is false if any element is false, else an error if any element errored, else
true; ``exists`` mirrors it with true; ``exists_one``, ``map`` and ``filter`` propagate
the first error. Every iteration is charged to the evaluation's budget: one unit plus the
nodes its body evaluates (``_cost.iteration_cost``), a constant known here.
"""

from __future__ import annotations

from typing import Protocol

from . import _ast as A
from ._cost import iteration_cost


class Emitter(Protocol):
    """The function being generated: where lines go and how deep they nest."""

    indent: int
    blocks: int

    def emit(self, line: str) -> None: ...


class Generator(Protocol):
    """What lowering a macro needs from the code generator (``_codegen.CodeGenerator``).

    Declared here, structurally, so that this module never imports the generator that
    imports it: the two stay a tree of layers.
    """

    scope: dict[str, str]
    uses_budget: bool
    loops: int

    @property
    def fn(self) -> Emitter: ...

    def tmp(self) -> str: ...

    def bind(self, expr: str) -> str: ...

    def visit(self, node: A.Expr) -> str: ...


def lower_comprehension(gen: Generator, node: A.Comprehension) -> str:
    fn = gen.fn
    gen.uses_budget = True
    rng = gen.bind(gen.visit(node.range))
    items = gen.tmp()
    fn.emit(f"{items} = iteration_range({rng})")
    var = gen.tmp()
    saved = gen.scope.get(node.var)
    gen.scope[node.var] = var
    try:
        return _LOWER[node.kind](gen, node, items, var, iteration_cost(node))
    finally:
        if saved is None:
            gen.scope.pop(node.var, None)
        else:
            gen.scope[node.var] = saved


def _loop_head(gen: Generator, items: str, var: str, cost: int) -> None:
    fn = gen.fn
    fn.emit(f"for {var} in {items}:")
    fn.indent += 1
    fn.blocks += 1
    gen.loops += 1
    fn.emit(f"budget[0] -= {cost}")
    fn.emit("if budget[0] < 0: raise budget_exceeded(budget)")


def _loop_end(gen: Generator) -> None:
    gen.fn.indent -= 1
    gen.fn.blocks -= 1
    gen.loops -= 1


def _quantifier(gen: Generator, node: A.Comprehension, items: str, var: str, cost: int) -> str:
    """all / exists: decisive value wins, else the first error, else the default."""
    decisive = "False" if node.kind == "all" else "True"
    default = "True" if decisive == "False" else "False"
    fn = gen.fn
    r, err = gen.tmp(), gen.tmp()
    fn.emit(f"{r} = {default}")
    fn.emit(f"{err} = None")
    _loop_head(gen, items, var, cost)
    fn.emit("try:")
    fn.indent += 1
    fn.blocks += 1
    v = gen.bind(gen.visit(node.predicate))
    fn.emit(f"if {v} is {decisive}:")
    fn.emit(f"    {r} = {decisive}")
    fn.emit("    break")
    fn.emit(f"if {v} is not {default} and {err} is None: {err} = not_bool({v})")
    fn.indent -= 1
    fn.blocks -= 1
    fn.emit("except ABORT: raise")
    fn.emit("except CEL_ERRORS as e:")
    fn.emit(f"    if {err} is None: {err} = e")
    _loop_end(gen)
    fn.emit(f"if {r} is {default} and {err} is not None: raise {err}")
    return r


def _exists_one(gen: Generator, node: A.Comprehension, items: str, var: str, cost: int) -> str:
    fn = gen.fn
    n = gen.tmp()
    fn.emit(f"{n} = 0")
    _loop_head(gen, items, var, cost)
    v = gen.bind(gen.visit(node.predicate))
    fn.emit(f"if {v} is True: {n} += 1")
    fn.emit(f"elif {v} is not False: raise not_bool({v})")
    _loop_end(gen)
    return f"({n} == 1)"


def _collect(gen: Generator, node: A.Comprehension, items: str, var: str, cost: int) -> str:
    """map(x, t), map(x, p, t) and filter(x, p) — filter is map(x, p, x)."""
    fn = gen.fn
    out = gen.tmp()
    fn.emit(f"{out} = []")
    _loop_head(gen, items, var, cost)
    if node.kind == "filter" or node.transform is not None:
        keep = gen.bind(gen.visit(node.predicate))
        fn.emit(f"if {keep} is not True and {keep} is not False: raise not_bool({keep})")
        fn.emit(f"if {keep}:")
        fn.indent += 1
        value = var if node.transform is None else gen.visit(node.transform)
        fn.emit(f"{out}.append({value})")
        fn.indent -= 1
    else:
        fn.emit(f"{out}.append({gen.visit(node.predicate)})")
    _loop_end(gen)
    return out


_LOWER = {
    "all": _quantifier,
    "exists": _quantifier,
    "exists_one": _exists_one,
    "map": _collect,
    "filter": _collect,
}
