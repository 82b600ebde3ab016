"""Check: undeclared names, unknown functions, wrong arity and literal type errors.

A light static pass, not a full CEL type checker: everything read from a variable is
``dyn`` (event payloads are JSON), so only what is certain is rejected — a call to a
function that does not exist, a macro or function with the wrong number of arguments,
and operators applied to operands whose types are known from literals and known to have
no overload (``'a' + 1``, ``!1``, ``1 < 'a'``). Messages follow cel-go's wording.
"""

from __future__ import annotations

from . import _ast as A
from ._errors import CompileError
from ._functions import FUNCTIONS
from ._values import TYPES, cel_type_name

DYN = "dyn"
_NUM = frozenset({"int", "uint", "double"})
_TS, _DUR = "google.protobuf.Timestamp", "google.protobuf.Duration"

# (op, left, right) → result type, for operands of statically known type.
_ARITH: dict[tuple[str, str, str], str] = {}
for _t in ("int", "uint", "double"):
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
_ORDERED = frozenset({"string", "bytes", "bool", _TS, _DUR})
_OP_NAME = {"+": "_+_", "-": "_-_", "*": "_*_", "/": "_/_", "%": "_%_", "<": "_<_",
            "<=": "_<=_", ">": "_>_", ">=": "_>=_", "!": "!_", "neg": "-_"}


class Checker:
    """Walks the AST once; ``check`` returns the static type of the root (or ``dyn``)."""

    def __init__(self, text: str, variables: frozenset[str]) -> None:
        self.text = text
        self.variables = variables

    def fail(self, message: str, node: A.Expr) -> CompileError:
        return CompileError(message, self.text, node.pos, kind="check error")

    def no_overload(self, op: str, node: A.Expr, *types: str) -> CompileError:
        shown = ", ".join(types)
        return self.fail(f"found no matching overload for '{_OP_NAME.get(op, op)}' "
                         f"applied to '({shown})'", node)

    def check(self, node: A.Expr, scope: frozenset[str] = frozenset()) -> str:
        method = getattr(self, "check_" + type(node).__name__)
        return method(node, scope)  # type: ignore[no-any-return]

    def check_Literal(self, node: A.Literal, scope: frozenset[str]) -> str:
        if type(node.value) is A.Slot:  # an interpolated value: its type varies per listener
            return DYN
        return cel_type_name(node.value)

    def check_Ident(self, node: A.Ident, scope: frozenset[str]) -> str:
        if node.name in scope or node.name in self.variables:
            return DYN
        if node.name in TYPES:
            return "type"
        declared = ", ".join(sorted(self.variables)) or "none"
        raise self.fail(f"undeclared reference to '{node.name}' (in container ''); "
                        f"declared variables: {declared}", node)

    def check_Select(self, node: A.Select, scope: frozenset[str]) -> str:
        path = A.path_of(node)
        if path is not None and ".".join(path) in TYPES and path[0] not in scope | self.variables:
            return "type"
        qualified = A.qualified_variable(node, self.variables)
        if qualified is not None and qualified[0].split(".")[0] not in scope:
            return DYN
        operand = self.check(node.operand, scope)
        if operand not in (DYN, "map"):
            raise self.fail(f"type '{operand}' has no fields (selecting '{node.field}')", node)
        return "bool" if node.test_only else DYN

    def check_Index(self, node: A.Index, scope: frozenset[str]) -> str:
        operand = self.check(node.operand, scope)
        self.check(node.index, scope)
        if operand not in (DYN, "map", "list"):
            raise self.no_overload("_[_]", node, operand, DYN)
        return DYN

    def check_Unary(self, node: A.Unary, scope: frozenset[str]) -> str:
        t = self.check(node.operand, scope)
        if node.op == "!":
            if t not in (DYN, "bool"):
                raise self.no_overload("!", node, t)
            return "bool"
        if t not in (DYN, "int", "double", _DUR):
            raise self.no_overload("neg", node, t)
        return t

    def check_Binary(self, node: A.Binary, scope: frozenset[str]) -> str:
        lt, rt = self.check(node.left, scope), self.check(node.right, scope)
        op = node.op
        if op in ("==", "!="):
            return "bool"
        if op == "in":
            if rt not in (DYN, "list", "map"):
                raise self.no_overload("@in", node, lt, rt)
            return "bool"
        if DYN in (lt, rt):
            return DYN if op in _ARITH_OPS else "bool"
        if op in _ARITH_OPS:
            result = _ARITH.get((op, lt, rt))
            if result is None:
                raise self.no_overload(op, node, lt, rt)
            return result
        comparable = (lt in _NUM and rt in _NUM) or (lt == rt and lt in _ORDERED)
        if not comparable:
            raise self.no_overload(op, node, lt, rt)
        return "bool"

    def check_logical(self, node: A.And | A.Or, scope: frozenset[str]) -> str:
        for term in node.terms:
            t = self.check(term, scope)
            if t not in (DYN, "bool"):
                op = "_&&_" if isinstance(node, A.And) else "_||_"
                raise self.no_overload(op, term, t)
        return "bool"

    check_And = check_logical
    check_Or = check_logical

    def check_Conditional(self, node: A.Conditional, scope: frozenset[str]) -> str:
        c = self.check(node.cond, scope)
        if c not in (DYN, "bool"):
            raise self.no_overload("_?_:_", node.cond, c)
        a, b = self.check(node.then, scope), self.check(node.otherwise, scope)
        return a if a == b else DYN

    def check_ListExpr(self, node: A.ListExpr, scope: frozenset[str]) -> str:
        for item in node.items:
            self.check(item, scope)
        return "list"

    def check_MapExpr(self, node: A.MapExpr, scope: frozenset[str]) -> str:
        for k, v in node.entries:
            kt = self.check(k, scope)
            if kt not in (DYN, "int", "uint", "bool", "string"):
                raise self.fail(f"unsupported map key type: {kt}", k)
            self.check(v, scope)
        return "map"

    def check_Call(self, node: A.Call, scope: frozenset[str]) -> str:
        spec = FUNCTIONS.get(node.function)
        arg_types = [self.check(a, scope) for a in node.args]
        if node.target is not None:
            target = self.check(node.target, scope)
            arities = spec.member_arities if spec else frozenset()
            if spec is None or len(node.args) not in arities:
                shown = ", ".join([target] + arg_types)
                raise self.fail(f"found no matching overload for '{node.function}' applied to "
                                f"'{target}.({shown[len(target) + 2:] if arg_types else ''})'"
                                if spec else f"undeclared reference to '{node.function}' "
                                f"(in container '')", node)
            return DYN
        if spec is None:
            raise self.fail(f"undeclared reference to '{node.function}' (in container '')", node)
        if len(node.args) not in spec.global_arities:
            raise self.fail(f"found no matching overload for '{node.function}' applied to "
                            f"'({', '.join(arg_types)})'", node)
        return "bool" if node.function == "matches" else DYN

    def check_Comprehension(self, node: A.Comprehension, scope: frozenset[str]) -> str:
        rt = self.check(node.range, scope)
        if rt not in (DYN, "list", "map"):
            raise self.fail(f"expression of type '{rt}' cannot be the range of a "
                            f"comprehension (must be list, map, or dynamic)", node.range)
        inner = scope | {node.var}
        self.check(node.predicate, inner)
        if node.transform is not None:
            self.check(node.transform, inner)
        return "list" if node.kind in ("map", "filter") else "bool"


_ARITH_OPS = frozenset("+-*/%")


def check(tree: A.Expr, text: str, variables: frozenset[str]) -> str:
    """Raise CompileError for anything certainly wrong; return the static result type."""
    return Checker(text, variables).check(tree)
