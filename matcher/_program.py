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
from . import _charged as C
from . import _cost
from . import _runtime as R
from ._caches import put_bounded, register
from ._checker import Type, check
from ._codegen import CEL_ERRORS, CodeGenerator
from ._errors import EvalError, EvaluationAborted
from ._functions import FUNCTIONS, compile_regex
from ._limits import DEFAULT_LIMITS, Limits
from ._lint import lint
from ._parser import parse
from ._values import TYPES, UInt


def _not_bool(value: Any) -> EvalError:
    if isinstance(value, BaseException):
        return value if isinstance(value, EvalError) else as_eval_error(value)
    return EvalError(f"no such overload: expected bool, got {R.type_name(value)}")


def _unbound(name: str) -> Any:
    raise EvalError(f"undeclared reference to '{name}'")


def _raise_error(value: A.ErrorValue) -> Any:
    raise EvalError(value.message)


def _regex(pattern: str, max_length: int) -> Any:
    if len(pattern) > max_length:
        raise EvalError(f"regular expression is {len(pattern)} characters long; "
                        f"the limit is {max_length}")
    return compile_regex(pattern)


def _search(s: Any, compiled: Any) -> bool:
    """``s.matches(<constant pattern>)`` with the pattern compiled in advance."""
    if type(s) is not str:
        raise EvalError(f"no such overload: matches({R.type_name(s)}, string)")
    try:
        return compiled.search(s) is not None
    except UnicodeError:
        raise EvalError("matches: string is not valid UTF-8 (unpaired surrogate)") from None


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
                     "neg", "logical_not", "in_", "index", "has_field", "make_map",
                     "iteration_range")
    }
    ns.update((name, getattr(C, name)) for name in (
        "budget_exceeded", "add_sized", "in_sized", "eq_sized", "eq_charged", "convert_sized",
        "scan_sized", "SCAN_FREE"))
    functions = {name: spec.impl for name, spec in FUNCTIONS.items()}
    functions["matches"] = _bounded_matches(functions["matches"], limits.max_regex_length)
    ns.update(
        F=functions,
        TYPES=TYPES,
        NUMERIC=(int, float, UInt),
        UInt=UInt,
        CEL_ERRORS=CEL_ERRORS,
        CONTAINERS=frozenset({list, tuple, dict}),
        MAX_COST=limits.max_cost,
        not_bool=_not_bool,
        unbound=_unbound,
        raise_error=_raise_error,
        regex=lambda pattern: _regex(pattern, limits.max_regex_length),
        search=_search,
        ABORT=EvaluationAborted,
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
            put_bounded(self._factories, key, make, self.MAX_ENTRIES)
        return make


CODE_CACHE = _CodeCache()
register("code", lambda: len(CODE_CACHE._factories), lambda: _CodeCache.MAX_ENTRIES)


class Program:
    """A compiled CEL expression.

    ``evaluate(activation)`` returns the CEL value (plain Python where CEL allows) or
    raises EvalError; ``try_evaluate`` returns the EvalError instead of raising.
    Activation values must already be CEL values (``matcher.loads_json`` or plain JSON
    types; ``matcher.from_python`` checks and converts anything else).
    """

    __slots__ = ("expression", "_ast", "source", "variables", "_fn", "_paths", "limits")

    def __init__(self, expression: str, ast: A.Expr | None, source: str,
                 variables: frozenset[str], fn: Any, limits: Limits = DEFAULT_LIMITS) -> None:
        self.expression = expression
        self._ast = ast
        self.source = source
        self.variables = variables
        self._fn = fn
        self._paths: tuple[tuple[str, ...], ...] | None = None
        self.limits = limits

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

    def evaluate_within(self, activation: dict[str, Any], budget: list[int]) -> Any:
        """``try_evaluate`` spending from ``budget`` (``[units left, units at start]``),
        so that several programs can share one budget (a rule's trigger holes do)."""
        try:
            return self._fn(activation, budget)
        except CEL_ERRORS as e:
            return as_eval_error(e)

    def measure(self, activation: dict[str, Any]) -> tuple[Any, int]:
        """(``try_evaluate``'s result, the cost units the evaluation charged; past
        ``limits.max_cost`` when it was aborted)."""
        budget = [self.limits.max_cost, self.limits.max_cost]
        value = self.evaluate_within(activation, budget)
        return value, budget[1] - budget[0]

    @property
    def warnings(self) -> tuple[str, ...]:
        """Things that are valid CEL but probably not meant (see ``_lint``), e.g. ordering a
        field against the string ``"100"``. Computed from the AST on each access."""
        return tuple(lint(self.ast, self.variables))

    @property
    def static_type(self) -> Type:
        """The CEL type of the result as far as it is known statically: a name such as
        ``"bool"``, ``"dyn"``, or a frozenset of names (``x + 1`` is an ``int``)."""
        return check(self.ast, self.expression, self.variables, self.limits)

    def estimated_cost(self, input_size: int | None = None) -> int:
        """Worst-case cost units of one evaluation when every value read from a variable has
        at most ``input_size`` elements and characters (default ``limits.cost_input_size``).
        Compare it with ``limits.max_cost``, the runtime budget, as cel-go's estimator is.

        Complexity: O(n) in the size of the expression.
        """
        size = self.limits.cost_input_size if input_size is None else input_size
        return _cost.estimate(self.ast, size)

    def largest_input(self, ceiling: int) -> int | None:
        """About the largest input size (up to ``ceiling``) whose estimate fits
        ``limits.max_cost``, from ``limits.cost_input_size`` doubled; None when the cost
        does not depend on the input (see ``_cost.largest_input``)."""
        return _cost.largest_input(self.ast, self.limits.max_cost, ceiling,
                                   self.limits.cost_input_size)


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
            path, base = A.path_of(target), A.path_root(target)
            if path is not None and base is not None and path[0] in roots \
                    and not A.in_scope(base, bound):
                out.add(path)
                continue
        stack.extend(A.scoped_children(node, bound))
    return out


def build(text: str, tree: A.Expr, variables: frozenset[str], limits: Limits,
          checked: bool = True) -> tuple[Program, CodeGenerator]:
    """Check and generate ``tree``; return the Program and the generator (its consts)."""
    if checked:
        check(tree, text, variables, limits)
    gen = CodeGenerator(variables, precompile=checked)
    source = gen.generate(tree)
    make = CODE_CACHE.factory(source, limits)
    return Program(text, tree, source, variables, make(*gen.consts), limits), gen


def factory_for(text: str, tree: A.Expr, variables: frozenset[str],
                limits: Limits = DEFAULT_LIMITS) -> tuple[Any, list[Any]]:
    """The shared ``_make`` factory for ``tree`` and its literal parameters (may hold Slots).

    ``tree`` is derived from a rule that was checked as written: a residual after trigger
    values were substituted. It is not checked again — a substituted value may make a
    sub-expression ill-typed (``x in true``, ``true.all(...)``), which is an evaluation
    error exactly as evaluating the rule as written finds it, never a compile error.
    """
    gen = CodeGenerator(variables, precompile=False)
    source = gen.generate(tree)
    return CODE_CACHE.factory(source, limits), gen.consts
