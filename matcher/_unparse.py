"""Unparse: AST → CEL source text, for residuals shown by explain() and AddResult.

Emits minimal parentheses from operator precedence, and literals in a form the parser
reads back to the same value (strings are double-quoted with escapes). A trigger value
that was an error shows as ``<error: message>`` (CEL has no literal for it).

``X == false`` is written ``!X`` when ``X`` is always a bool or an error (a comparison, a
logical operator, ``has``, a quantifier...): the two are the same CEL expression then, and
the normalizer states negative DNF atoms that way.
"""

from __future__ import annotations

import math
from typing import Any

from . import _ast as A
from ._values import Duration, Timestamp, UInt

_PREC = {"||": 1, "&&": 2, "==": 3, "!=": 3, "<": 3, "<=": 3, ">": 3, ">=": 3, "in": 3,
         "+": 4, "-": 4, "*": 5, "/": 5, "%": 5}
_UNARY, _MEMBER = 6, 7
_ESC = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def literal(v: Any) -> str:
    """A CEL literal (or constructor call) that evaluates to ``v``."""
    if v is None:
        return "null"
    if v is True or v is False:
        return "true" if v else "false"
    if type(v) is UInt:
        return f"{int(v)}u"
    if type(v) is int:
        return str(v)
    if type(v) is float:
        if math.isnan(v) or math.isinf(v):
            return f'double("{v}")'.replace("inf", "Infinity").replace("nan", "NaN")
        text = repr(v)
        return text if ("." in text or "e" in text) else text + ".0"
    if type(v) is str:
        return '"' + "".join(_ESC.get(c, c if c.isprintable() else f"\\u{ord(c):04x}"
                                      if ord(c) < 0x10000 else f"\\U{ord(c):08x}") for c in v) + '"'
    if type(v) is bytes:
        return 'b"' + "".join(f"\\x{b:02x}" for b in v) + '"'
    if type(v) is list:
        return "[" + ", ".join(literal(x) for x in v) + "]"
    if type(v) is dict:
        return "{" + ", ".join(f"{literal(k)}: {literal(x)}" for k, x in v.items()) + "}"
    if type(v) is Timestamp:
        return f'timestamp("{v}")'
    if type(v) is Duration:
        return f'duration("{v}")'
    if type(v) is A.ErrorValue:
        return f"<error: {v.message}>"
    return str(v)


_BOOL_CALLS = frozenset({"contains", "startsWith", "endsWith", "matches"})


def _always_bool(n: A.Expr) -> bool:
    """Is ``n`` a bool whenever it is not an error (whatever its operands are)?"""
    if isinstance(n, A.Binary):
        return n.op in ("==", "!=", "<", "<=", ">", ">=", "in")
    if isinstance(n, A.Select):
        return n.test_only
    if isinstance(n, A.Call):
        return n.function in _BOOL_CALLS
    if isinstance(n, A.Comprehension):
        return n.kind in ("all", "exists", "exists_one")
    return isinstance(n, (A.And, A.Or)) or (isinstance(n, A.Unary) and n.op == "!")


def unparse(node: A.Expr) -> str:
    return _Unparser().go(node, 0)


class _Unparser:
    def go(self, node: A.Expr, outer: int) -> str:
        text, prec = getattr(self, "u_" + type(node).__name__)(node)
        return f"({text})" if prec < outer else text

    def u_Literal(self, n: A.Literal) -> tuple[str, int]:
        return literal(n.value), _MEMBER

    def u_Ident(self, n: A.Ident) -> tuple[str, int]:
        return ("." if n.root else "") + n.name, _MEMBER

    def u_Select(self, n: A.Select) -> tuple[str, int]:
        field = n.field if n.field.isidentifier() else f"`{n.field}`"
        text = f"{self.go(n.operand, _MEMBER)}.{field}"
        return (f"has({text})", _MEMBER) if n.test_only else (text, _MEMBER)

    def u_Index(self, n: A.Index) -> tuple[str, int]:
        return f"{self.go(n.operand, _MEMBER)}[{self.go(n.index, 0)}]", _MEMBER

    def u_Unary(self, n: A.Unary) -> tuple[str, int]:
        return n.op + self.go(n.operand, _UNARY + 1), _UNARY

    def u_Binary(self, n: A.Binary) -> tuple[str, int]:
        if n.op == "==" and isinstance(n.right, A.Literal) and n.right.value is False \
                and _always_bool(n.left):
            return self.u_Unary(A.Unary("!", n.left))
        p = _PREC[n.op]
        return f"{self.go(n.left, p)} {n.op} {self.go(n.right, p + 1)}", p

    def u_And(self, n: A.And) -> tuple[str, int]:
        return " && ".join(self.go(t, 3) for t in n.terms), 2

    def u_Or(self, n: A.Or) -> tuple[str, int]:
        return " || ".join(self.go(t, 2) for t in n.terms), 1

    def u_Conditional(self, n: A.Conditional) -> tuple[str, int]:
        return f"{self.go(n.cond, 1)} ? {self.go(n.then, 1)} : {self.go(n.otherwise, 0)}", 0

    def u_ListExpr(self, n: A.ListExpr) -> tuple[str, int]:
        return "[" + ", ".join(self.go(i, 0) for i in n.items) + "]", _MEMBER

    def u_MapExpr(self, n: A.MapExpr) -> tuple[str, int]:
        return "{" + ", ".join(f"{self.go(k, 0)}: {self.go(v, 0)}" for k, v in n.entries) + "}", _MEMBER

    def u_Call(self, n: A.Call) -> tuple[str, int]:
        args = ", ".join(self.go(a, 0) for a in n.args)
        if n.target is None:
            return f"{n.function}({args})", _MEMBER
        return f"{self.go(n.target, _MEMBER)}.{n.function}({args})", _MEMBER

    def u_Comprehension(self, n: A.Comprehension) -> tuple[str, int]:
        args = [n.var, self.go(n.predicate, 0)]
        if n.transform is not None:
            args.append(self.go(n.transform, 0))
        return f"{self.go(n.range, _MEMBER)}.{n.kind}({', '.join(args)})", _MEMBER
