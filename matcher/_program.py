"""Program: a checked AST turned into a Python function, and the cache of code objects.

``build()`` runs check → generate → ``compile()`` for one tree; the *code cache* maps
generated source to its compiled ``_make`` factory. Sources are literal-free, so all
expressions of one shape share one code object. ``_compile.compile()`` (the public entry
point) adds the shape cache on top.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from . import _ast as A
from . import _runtime as R
from ._checker import check
from ._codegen import CEL_ERRORS, CodeGenerator
from ._errors import EvalError
from ._functions import FUNCTIONS
from ._limits import DEFAULT_LIMITS, Limits
from ._parser import parse
from ._values import TYPES, UInt


class EvaluationAborted(EvalError):
    """A resource budget ran out. Unlike other CEL errors it is not absorbed by ``&&``,
    ``||`` or the macros: like cel-go's cost limit, it ends the evaluation."""


def _not_bool(value: Any) -> EvalError:
    if isinstance(value, BaseException):
        return value if isinstance(value, EvalError) else as_eval_error(value)
    return EvalError(f"no such overload: expected bool, got {R.type_name(value)}")


def _unbound(name: str) -> Any:
    raise EvalError(f"undeclared reference to '{name}'")


def _iteration_range(value: Any) -> Any:
    t = type(value)
    if t is list or t is dict:
        return value
    if t is tuple:
        return list(value)
    raise EvalError(f"no such overload: cannot iterate over {R.type_name(value)}")


def as_eval_error(exc: BaseException) -> EvalError:
    """Turn a Python exception raised inside generated code into a CEL EvalError."""
    if isinstance(exc, EvalError):
        return exc
    if isinstance(exc, KeyError):
        key = exc.args[0] if exc.args else "?"
        return EvalError(f"no such key: {key!r}")
    if isinstance(exc, TypeError):
        return EvalError(f"no such overload: {exc}")
    if isinstance(exc, RecursionError):
        return EvalError("expression too deeply nested to evaluate")
    return EvalError(f"{type(exc).__name__}: {exc}")


def _namespace(limits: Limits) -> dict[str, Any]:
    ns: dict[str, Any] = {
        name: getattr(R, name)
        for name in ("eq", "lt", "le", "gt", "ge", "add", "sub", "mul", "div", "mod",
                     "neg", "logical_not", "in_", "index", "has_field", "make_map")
    }
    functions = {name: spec.impl for name, spec in FUNCTIONS.items()}
    functions["matches"] = _bounded_matches(functions["matches"], limits.max_regex_length)
    ns.update(
        F=functions,
        TYPES=TYPES,
        NUMERIC=(int, float, UInt),
        UInt=UInt,
        CEL_ERRORS=CEL_ERRORS,
        MAX_ITERATIONS=limits.max_iterations,
        not_bool=_not_bool,
        unbound=_unbound,
        iteration_range=_iteration_range,
        ABORT=EvaluationAborted,
        budget_exceeded=lambda: EvaluationAborted(
            f"evaluation exceeded its budget of {limits.max_iterations} comprehension iterations"),
    )
    return ns


def _bounded_matches(matches: Any, max_length: int) -> Any:
    def bounded(s: Any, pattern: Any) -> Any:
        if type(pattern) is str and len(pattern) > max_length:
            raise EvalError(f"regular expression is {len(pattern)} characters long; "
                            f"the limit is {max_length}")
        return matches(s, pattern)

    return bounded


class _CodeCache:
    """Generated source → ``_make`` factory, per Limits (the namespace depends on them)."""

    MAX_ENTRIES = 4096
    """Distinct shapes kept. A deployment has few rule texts; the bound only stops a
    client that sends endless distinct expressions from growing memory without end."""

    def __init__(self) -> None:
        self._factories: dict[tuple[str, Limits], Any] = {}
        self._namespaces: dict[Limits, dict[str, Any]] = {}

    def factory(self, source: str, limits: Limits) -> Any:
        key = (source, limits)
        make = self._factories.get(key)
        if make is None:
            ns = self._namespaces.get(limits)
            if ns is None:
                ns = self._namespaces[limits] = _namespace(limits)
            scope = dict(ns)
            exec(builtins.compile(source, "<cel>", "exec"), scope)
            make = scope["_make"]
            if len(self._factories) >= self.MAX_ENTRIES:
                self._factories.pop(next(iter(self._factories)))
            self._factories[key] = make
        return make


CODE_CACHE = _CodeCache()


class Program:
    """A compiled CEL expression.

    ``evaluate(activation)`` returns the CEL value (plain Python where CEL allows) or
    raises EvalError; ``try_evaluate`` returns the EvalError instead of raising.
    Activation values must already be CEL values (``matcher.loads_json`` or plain JSON
    types; ``matcher.from_python`` checks and converts anything else).
    """

    __slots__ = ("expression", "_ast", "source", "variables", "_fn", "_paths")

    def __init__(self, expression: str, ast: A.Expr | None, source: str,
                 variables: frozenset[str], fn: Any) -> None:
        self.expression = expression
        self._ast = ast
        self.source = source
        self.variables = variables
        self._fn = fn
        self._paths: tuple[tuple[str, ...], ...] | None = None

    def __repr__(self) -> str:
        return f"Program({self.expression!r})"

    @property
    def ast(self) -> A.Expr:
        """The parsed tree (parsed lazily for programs built from the shape cache)."""
        if self._ast is None:
            self._ast = parse(self.expression)
        return self._ast

    @property
    def paths(self) -> tuple[tuple[str, ...], ...]:
        """The variable paths the expression reads, e.g. ``(("async", "data", "x"),)``."""
        if self._paths is None:
            self._paths = tuple(sorted(read_paths(self.ast, self.variables)))
        return self._paths

    def evaluate(self, activation: dict[str, Any]) -> Any:
        """Complexity: proportional to the expression (and its comprehensions' ranges)."""
        try:
            return self._fn(activation)
        except EvalError:
            raise
        except CEL_ERRORS as e:
            raise as_eval_error(e) from None

    def try_evaluate(self, activation: dict[str, Any]) -> Any:
        try:
            return self._fn(activation)
        except CEL_ERRORS as e:
            return as_eval_error(e)


def read_paths(tree: A.Expr, variables: Iterable[str]) -> set[tuple[str, ...]]:
    """Longest field paths rooted at a declared variable (``has()`` tests included)."""
    roots = frozenset(variables)
    out: set[tuple[str, ...]] = set()
    stack: list[tuple[A.Expr, frozenset[str]]] = [(tree, frozenset())]
    while stack:
        node, bound = stack.pop()
        if isinstance(node, (A.Select, A.Index, A.Ident)):
            target = node
            if isinstance(node, A.Select) and node.test_only:
                target = A.Select(node.operand, node.field)
            path = A.path_of(target)
            if path is not None and path[0] in roots and path[0] not in bound:
                out.add(path)
                continue
        if isinstance(node, A.Comprehension):
            stack.append((node.range, bound))
            stack.append((node.predicate, bound | {node.var}))
            if node.transform is not None:
                stack.append((node.transform, bound | {node.var}))
            continue
        stack.extend((c, bound) for c in A.children(node))
    return out


def build(text: str, tree: A.Expr, variables: frozenset[str], limits: Limits,
          checked: bool = True) -> tuple[Program, CodeGenerator]:
    """Check and generate ``tree``; return the Program and the generator (its consts)."""
    if checked:
        check(tree, text, variables)
    gen = CodeGenerator(variables)
    source = gen.generate(tree)
    make = CODE_CACHE.factory(source, limits)
    return Program(text, tree, source, variables, make(*gen.consts)), gen


def factory_for(text: str, tree: A.Expr, variables: frozenset[str],
                limits: Limits = DEFAULT_LIMITS) -> tuple[Any, list[Any]]:
    """The shared ``_make`` factory for ``tree`` and its literal parameters (may hold Slots)."""
    check(tree, text, variables)
    gen = CodeGenerator(variables)
    source = gen.generate(tree)
    return CODE_CACHE.factory(source, limits), gen.consts
