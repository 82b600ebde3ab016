"""Check: undeclared names, unknown functions, wrong arity and impossible overloads.

A light static pass, not a full CEL type checker: everything read from a variable is
``dyn`` (event payloads are JSON). A node's type is a CEL type name, ``dyn``, or a set of
type names when only some are possible (``x + 1`` is an ``int`` whatever ``x`` is, and
``x + y`` is never a ``bool``). Only what is certain is rejected, in cel-go's wording: a
call to a function that does not exist, a macro or function with the wrong number of
arguments, an operator with no overload for the operand types that are known (``'a' + 1``,
``!1``, ``x < null``), an invalid constant regular expression (cel-go reports it when the
program is planned), and — for cancel rules — a result that can never be a ``bool``.
Unknown names come with a "did you mean" when one declared name is close.
"""

from __future__ import annotations

import difflib
from typing import Union

from . import _ast as A
from ._errors import CompileError, EvalError
from ._functions import FUNCTIONS, compile_regex
from ._limits import DEFAULT_LIMITS, Limits
from ._values import TYPES, cel_type_name

DYN = "dyn"
Type = Union[str, frozenset[str]]  # noqa: UP007 -- a runtime alias, not an annotation
"""A type name, ``dyn`` (anything), or the set of type names a value may have."""

_TS, _DUR = "google.protobuf.Timestamp", "google.protobuf.Duration"
_NUM = ("int", "uint", "double")
_ORDERED = ("string", "bytes", "bool", _TS, _DUR)
_MACROS = ("all", "exists", "exists_one", "map", "filter", "has")

# (op, left, right) → result type: every arithmetic overload of the standard library.
_ARITH: dict[tuple[str, str, str], str] = {}
for _t in _NUM:
    for _op in "+-*/":
        _ARITH[(_op, _t, _t)] = _t
    if _t != "double":
        _ARITH[("%", _t, _t)] = _t
for _t in ("string", "bytes", "list"):
    _ARITH[("+", _t, _t)] = _t
_ARITH.update({
    ("+", _TS, _DUR): _TS, ("+", _DUR, _TS): _TS, ("+", _DUR, _DUR): _DUR,
    ("-", _TS, _DUR): _TS, ("-", _TS, _TS): _DUR, ("-", _DUR, _DUR): _DUR,
})
# (left, right) pairs that `<` and friends accept.
_COMPARABLE = frozenset([(a, b) for a in _NUM for b in _NUM] + [(t, t) for t in _ORDERED])
_OP_NAME = {"+": "_+_", "-": "_-_", "*": "_*_", "/": "_/_", "%": "_%_", "<": "_<_",
            "<=": "_<=_", ">": "_>_", ">=": "_>=_", "!": "!_", "neg": "-_"}


def admits(t: Type, *names: str) -> bool:
    """Does the checker accept a value of static type ``t`` where one of ``names`` is needed?

    A set of types counts as ``dyn`` here, as in cel-go's checker (several overloads
    matched, so the result is dyn): ``(a + b) < true`` is valid CEL that evaluates to an
    error, which ``|| true`` may absorb. Only ``can_be`` uses the set.
    """
    return t == DYN or isinstance(t, frozenset) or t in names


def can_be(t: Type, name: str) -> bool:
    """Can a value of static type ``t`` have type ``name``? (Exact about sets of types.)"""
    return t == DYN or t == name or (isinstance(t, frozenset) and name in t)


def _options(t: Type, universe: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n for n in universe if can_be(t, n))


def join(types: list[str] | set[str]) -> Type:
    """The type of a value that has one of ``types``."""
    if not types or DYN in types:
        return DYN
    return next(iter(types)) if len(types) == 1 else frozenset(types)


def show(t: Type) -> str:
    """A type for messages: its name, or ``dyn`` for a set (cel-go shows what it inferred)."""
    return t if isinstance(t, str) else DYN


class Checker:
    """Walks the AST once; ``check`` returns the static type of the root."""

    def __init__(self, text: str, variables: frozenset[str], limits: Limits) -> None:
        self.text = text
        self.variables = variables
        self.limits = limits

    def fail(self, message: str, node: A.Expr, kind: str = "check error") -> CompileError:
        return CompileError(message, self.text, node.pos, kind=kind)

    def no_overload(self, op: str, node: A.Expr, *types: Type) -> CompileError:
        shown = ", ".join(show(t) for t in types)
        return self.fail(f"found no matching overload for '{_OP_NAME.get(op, op)}' "
                         f"applied to '({shown})'", node)

    def undeclared(self, name: str, node: A.Expr, known: list[str], extra: str = "") -> CompileError:
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}?" if close else ""
        return self.fail(f"undeclared reference to '{name}' (in container ''){extra}{hint}", node)

    def check(self, node: A.Expr, scope: frozenset[str] = frozenset()) -> Type:
        method = getattr(self, "check_" + type(node).__name__)
        return method(node, scope)  # type: ignore[no-any-return]

    def check_Literal(self, node: A.Literal, scope: frozenset[str]) -> Type:
        v = node.value
        if type(v) is A.Slot or type(v) is A.ErrorValue:  # interpolated: varies per listener
            return DYN
        return cel_type_name(v)

    def check_Ident(self, node: A.Ident, scope: frozenset[str]) -> Type:
        if A.in_scope(node, scope) or node.name in self.variables:
            return DYN
        if node.name in TYPES:
            return "type"
        declared = ", ".join(sorted(self.variables)) or "none"
        known = sorted(self.variables | (set() if node.root else scope))
        raise self.undeclared(node.name, node, known, f"; declared variables: {declared}")

    def check_Select(self, node: A.Select, scope: frozenset[str]) -> Type:
        path, base = A.path_of(node), A.path_root(node)
        if path is not None and base is not None and ".".join(path) in TYPES \
                and not A.in_scope(base, scope) and base.name not in self.variables:
            return "type"
        qualified = A.qualified_variable(node, self.variables)
        if qualified is not None and base is not None and not A.in_scope(base, scope):
            return DYN
        operand = self.check(node.operand, scope)
        if not admits(operand, "map"):
            raise self.fail(f"type '{show(operand)}' has no fields (selecting '{node.field}')", node)
        return "bool" if node.test_only else DYN

    def check_Index(self, node: A.Index, scope: frozenset[str]) -> Type:
        operand = self.check(node.operand, scope)
        self.check(node.index, scope)
        if not admits(operand, "map", "list"):
            raise self.no_overload("_[_]", node, operand, DYN)
        return DYN

    def check_Unary(self, node: A.Unary, scope: frozenset[str]) -> Type:
        t = self.check(node.operand, scope)
        if node.op == "!":
            if not admits(t, "bool"):
                raise self.no_overload("!", node, t)
            return "bool"
        if not admits(t, "int", "double", _DUR):
            raise self.no_overload("neg", node, t)
        return join(set(_options(t, ("int", "double", _DUR))))

    def check_Binary(self, node: A.Binary, scope: frozenset[str]) -> Type:
        lt, rt = self.check(node.left, scope), self.check(node.right, scope)
        op = node.op
        if op in ("==", "!="):
            return "bool"
        if op == "in":
            if not admits(rt, "list", "map"):
                raise self.no_overload("@in", node, lt, rt)
            return "bool"
        if op in _ARITH_OPS:
            results = {res for (o, a, b), res in _ARITH.items()
                       if o == op and admits(lt, a) and admits(rt, b)}
            if not results:
                raise self.no_overload(op, node, lt, rt)
            return join(results)
        if not any(admits(lt, a) and admits(rt, b) for a, b in _COMPARABLE):
            raise self.no_overload(op, node, lt, rt)
        return "bool"

    def check_logical(self, node: A.And | A.Or, scope: frozenset[str]) -> Type:
        for term in node.terms:
            t = self.check(term, scope)
            if not admits(t, "bool"):
                op = "_&&_" if isinstance(node, A.And) else "_||_"
                raise self.no_overload(op, term, t)
        return "bool"

    check_And = check_logical
    check_Or = check_logical

    def check_Conditional(self, node: A.Conditional, scope: frozenset[str]) -> Type:
        c = self.check(node.cond, scope)
        if not admits(c, "bool"):
            raise self.no_overload("_?_:_", node.cond, c)
        a, b = self.check(node.then, scope), self.check(node.otherwise, scope)
        if a == DYN or b == DYN:
            return DYN
        return join(_names(a) | _names(b))

    def check_ListExpr(self, node: A.ListExpr, scope: frozenset[str]) -> Type:
        for item in node.items:
            self.check(item, scope)
        return "list"

    def check_MapExpr(self, node: A.MapExpr, scope: frozenset[str]) -> Type:
        for k, v in node.entries:
            kt = self.check(k, scope)
            if not admits(kt, "int", "uint", "bool", "string"):
                raise self.fail(f"unsupported map key type: {show(kt)}", k)
            self.check(v, scope)
        return "map"

    def check_Call(self, node: A.Call, scope: frozenset[str]) -> Type:
        spec = FUNCTIONS.get(node.function)
        if spec is None:  # before the arguments: `l.exist(x, x)` is about the name, not x
            raise self.undeclared(node.function, node, sorted(set(FUNCTIONS) | set(_MACROS)))
        arg_types = [show(self.check(a, scope)) for a in node.args]
        if node.target is not None:
            target = show(self.check(node.target, scope))
            if len(node.args) not in spec.member_arities:
                raise self.fail(f"found no matching overload for '{node.function}' applied to "
                                f"'{target}.({', '.join(arg_types)})'", node)
        elif len(node.args) not in spec.global_arities:
            raise self.fail(f"found no matching overload for '{node.function}' applied to "
                            f"'({', '.join(arg_types)})'", node)
        if node.function == "matches":
            self.constant_regex(node.args[-1])
        return spec.result

    def constant_regex(self, pattern: A.Expr) -> None:
        """A literal ``matches()`` pattern must compile (RE2) and respect the length limit."""
        if not isinstance(pattern, A.Literal) or type(pattern.value) is not str:
            return
        if len(pattern.value) > self.limits.max_regex_length:
            raise self.fail(f"regular expression is {len(pattern.value)} characters long; "
                            f"the limit is {self.limits.max_regex_length}", pattern, "Limit")
        try:
            compile_regex(pattern.value)
        except EvalError as e:
            raise self.fail(e.message, pattern) from None

    def check_Comprehension(self, node: A.Comprehension, scope: frozenset[str]) -> Type:
        rt = self.check(node.range, scope)
        if not admits(rt, "list", "map"):
            raise self.fail(f"expression of type '{show(rt)}' cannot be the range of a "
                            f"comprehension (must be list, map, or dynamic)", node.range)
        inner = scope | {node.var}
        self.check(node.predicate, inner)
        if node.transform is not None:
            self.check(node.transform, inner)
        return "list" if node.kind in ("map", "filter") else "bool"


def _names(t: Type) -> set[str]:
    return {t} if isinstance(t, str) else set(t)


_ARITH_OPS = frozenset("+-*/%")


def check(tree: A.Expr, text: str, variables: frozenset[str],
          limits: Limits = DEFAULT_LIMITS) -> Type:
    """Raise CompileError for anything certainly wrong; return the static result type."""
    return Checker(text, variables, limits).check(tree)


def check_rule(tree: A.Expr, text: str, variables: frozenset[str],
               limits: Limits = DEFAULT_LIMITS) -> None:
    """``check``, and the result must be able to be a ``bool``: a cancel rule that is an
    int or a string can never fire, so it is refused rather than stored."""
    t = check(tree, text, variables, limits)
    if not can_be(t, "bool"):
        names = sorted(_names(t))
        kinds = " or ".join(names) if len(names) <= 3 else (
            ", ".join(names[:3]) + " or another type that is not a bool")
        raise CompileError(f"a rule must be a bool expression, but this one is {kinds}: it "
                           "can never be true", text, tree.pos, kind="check error")
