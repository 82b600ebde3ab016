"""AST: the small immutable expression tree every later stage works on.

The parser builds it, the checker and the optimizer passes (interpolation, negation
push-down, DNF) transform it, the code generator lowers it to Python source. Nodes are
frozen dataclasses with ``slots``; ``pos`` (a 0-based code point offset into the source)
is excluded from equality and hashing so that two trees that differ only in where they
were written compare equal — the shape cache and the DNF deduplication rely on that.

Operators are spelled as in CEL source: ``Binary.op`` is one of
``+ - * / % == != < <= > >= in``; ``Unary.op`` is ``!`` or ``-``.
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from typing import Any


def _pos() -> Any:
    return field(default=0, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant: int, UInt, float, str, bytes, bool or None (CEL null)."""

    value: Any
    pos: int = _pos()

    def __eq__(self, other: object) -> bool:
        # Literals must compare by *type and value*: Python says 1 == 1.0 == True,
        # CEL says those are three different literals (and NaN is a literal too).
        if not isinstance(other, Literal):
            return NotImplemented
        a, b = self.value, other.value
        if type(a) is not type(b):
            return False
        same: bool = a == b or (a != a and b != b)
        return same

    def __hash__(self) -> int:
        return hash((type(self.value), self.value))


@dataclass(frozen=True, slots=True)
class Ident:
    """A variable or type name, e.g. ``async`` or ``int``.

    ``root`` is a leading dot (``.event``): the name is resolved in the root scope, past
    any comprehension variable of the same name (cel-spec, "Name Resolution").
    """

    name: str
    root: bool = False
    pos: int = _pos()


@dataclass(frozen=True, slots=True)
class Select:
    """``operand.field``; with ``test_only`` it is the ``has(operand.field)`` macro."""

    operand: Expr
    field: str
    test_only: bool = False
    pos: int = _pos()


@dataclass(frozen=True, slots=True)
class Index:
    """``operand[index]`` on a list or map."""

    operand: Expr
    index: Expr
    pos: int = _pos()


@dataclass(frozen=True, slots=True)
class Unary:
    """``!operand`` or ``-operand``."""

    op: str
    operand: Expr
    pos: int = _pos()


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic, relations and ``in``: ``left op right``."""

    op: str
    left: Expr
    right: Expr
    pos: int = _pos()


@dataclass(frozen=True, slots=True)
class And:
    """``a && b && ...`` flattened to n-ary; error-absorbing, commutative (CEL spec)."""

    terms: tuple[Expr, ...]
    pos: int = _pos()


@dataclass(frozen=True, slots=True)
class Or:
    """``a || b || ...`` flattened to n-ary; error-absorbing, commutative (CEL spec)."""

    terms: tuple[Expr, ...]
    pos: int = _pos()


@dataclass(frozen=True, slots=True)
class Conditional:
    """``cond ? then : otherwise``; only the taken branch is evaluated."""

    cond: Expr
    then: Expr
    otherwise: Expr
    pos: int = _pos()


@dataclass(frozen=True, slots=True)
class ListExpr:
    """``[a, b, ...]``."""

    items: tuple[Expr, ...]
    pos: int = _pos()


@dataclass(frozen=True, slots=True)
class MapExpr:
    """``{k: v, ...}``; entries in source order (duplicate keys are an evaluation error)."""

    entries: tuple[tuple[Expr, Expr], ...]
    pos: int = _pos()


@dataclass(frozen=True, slots=True)
class Call:
    """A function call ``name(args)`` or a receiver call ``target.name(args)``."""

    function: str
    args: tuple[Expr, ...]
    target: Expr | None = None
    pos: int = _pos()


@dataclass(frozen=True, slots=True)
class Comprehension:
    """A macro over a list or map: ``range.kind(var, ...)``.

    ``kind`` is ``all``, ``exists``, ``exists_one``, ``map`` or ``filter``. ``predicate`` is
    the test (or, for ``map``, the transform); ``transform`` is only set for the
    three-argument ``map(x, filter, transform)``.
    """

    kind: str
    range: Expr
    var: str
    predicate: Expr
    transform: Expr | None = None
    pos: int = _pos()


Expr = (Literal | Ident | Select | Index | Unary | Binary | And | Or | Conditional | ListExpr
        | MapExpr | Call | Comprehension)

NODE_TYPES: tuple[type, ...] = (
    Literal, Ident, Select, Index, Unary, Binary, And, Or, Conditional, ListExpr, MapExpr,
    Call, Comprehension,
)


def children(node: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``node``, in evaluation order."""
    if isinstance(node, (Literal, Ident)):
        return ()
    if isinstance(node, Select):
        return (node.operand,)
    if isinstance(node, Index):
        return (node.operand, node.index)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, (And, Or)):
        return node.terms
    if isinstance(node, Conditional):
        return (node.cond, node.then, node.otherwise)
    if isinstance(node, ListExpr):
        return node.items
    if isinstance(node, MapExpr):
        return tuple(x for kv in node.entries for x in kv)
    if isinstance(node, Call):
        return ((node.target,) if node.target is not None else ()) + node.args
    if isinstance(node, Comprehension):
        extra = (node.transform,) if node.transform is not None else ()
        return (node.range, node.predicate) + extra
    raise TypeError(f"not an AST node: {node!r}")


def walk(node: Expr) -> Iterator[Expr]:
    """Every node of ``node``'s tree, ``node`` first (iteratively: no recursion limit)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(children(n))


def scoped_children(node: Expr, bound: frozenset[str]) -> list[tuple[Expr, frozenset[str]]]:
    """``children(node)``, each with the comprehension variables in scope inside it: a
    macro's variable is bound in its body, not in its range."""
    if isinstance(node, Comprehension):
        inner = bound | {node.var}
        out = [(node.range, bound), (node.predicate, inner)]
        if node.transform is not None:
            out.append((node.transform, inner))
        return out
    return [(c, bound) for c in children(node)]


def free_variables(node: Expr, bound: frozenset[str] = frozenset()) -> set[str]:
    """Names of the variables ``node`` reads that are not bound by a comprehension.

    ``bound`` holds the comprehension variables in scope around ``node``. A leading-dot
    name (``.event``) is always free: it skips every comprehension scope.
    """
    out: set[str] = set()
    stack = [(node, bound)]
    while stack:
        n, b = stack.pop()
        if isinstance(n, Ident):
            if n.root or n.name not in b:
                out.add(n.name)
        else:
            stack.extend(scoped_children(n, b))
    return out


def reads_bound(node: Expr, names: frozenset[str]) -> bool:
    """Does ``node`` read one of ``names`` as a comprehension variable bound around it?

    True for ``x`` in ``x + 1`` with ``names = {"x"}``; false for ``.x`` (root scope) and
    for an ``x`` that a comprehension inside ``node`` binds again.
    """
    stack: list[tuple[Expr, frozenset[str]]] = [(node, frozenset())]
    while stack:
        n, rebound = stack.pop()
        if isinstance(n, Ident):
            if not n.root and n.name in names and n.name not in rebound:
                return True
        else:
            stack.extend(scoped_children(n, rebound))
    return False


def path_root(node: Expr) -> Ident | None:
    """The identifier a field path starts from (``async`` in ``async.data["x"]``), or None."""
    while True:
        if isinstance(node, Select) and not node.test_only:
            node = node.operand
        elif isinstance(node, Index) and isinstance(node.index, Literal) and type(node.index.value) is str:
            node = node.operand
        elif isinstance(node, Ident):
            return node
        else:
            return None


def in_scope(ident: Ident, scope: Container[str]) -> bool:
    """Is ``ident`` a comprehension variable of ``scope`` (rather than a root name)?"""
    return not ident.root and ident.name in scope


def path_of(node: Expr) -> tuple[str, ...] | None:
    """``async.data.x`` / ``async["data"]["x"]`` as ``("async", "data", "x")``, else None.

    Only plain field selections and string-literal indexes form a path: those are the
    expressions the index can extract from an incoming event once and share.
    """
    parts: list[str] = []
    while True:
        if isinstance(node, Select) and not node.test_only:
            parts.append(node.field)
            node = node.operand
        elif isinstance(node, Index) and isinstance(node.index, Literal) and type(node.index.value) is str:
            parts.append(node.index.value)
            node = node.operand
        elif isinstance(node, Ident):
            parts.append(node.name)
            return tuple(reversed(parts))
        else:
            return None


@dataclass(frozen=True, slots=True)
class Slot:
    """A literal whose value is only known per registration: hole ``index`` of a rule.

    Interpolation replaces each ``event``-only subtree by ``Literal(Slot(i, type))``;
    plans and generated code are built once per rule and value *types*, and the values
    are bound when a listener is added. ``type`` is the Python class of the value.
    """

    index: int
    type: type


class ErrorValue:
    """The value of a hole whose evaluation failed (CEL error semantics at registration).

    ``aborted``: the evaluation ran out of its cost budget rather than producing a CEL
    error — not a value at all, so the rule cannot be evaluated for this trigger.
    """

    __slots__ = ("message", "aborted")

    def __init__(self, message: str, aborted: bool = False) -> None:
        self.message = message
        self.aborted = aborted

    def __repr__(self) -> str:
        return f"ErrorValue({self.message!r})"


def with_children(node: Expr, kids: tuple[Expr, ...]) -> Expr:
    """A copy of ``node`` with its children (in ``children()`` order) replaced."""
    if isinstance(node, (Literal, Ident)):
        return node
    if isinstance(node, Select):
        return Select(kids[0], node.field, node.test_only, pos=node.pos)
    if isinstance(node, Index):
        return Index(kids[0], kids[1], pos=node.pos)
    if isinstance(node, Unary):
        return Unary(node.op, kids[0], pos=node.pos)
    if isinstance(node, Binary):
        return Binary(node.op, kids[0], kids[1], pos=node.pos)
    if isinstance(node, And):
        return And(kids, pos=node.pos)
    if isinstance(node, Or):
        return Or(kids, pos=node.pos)
    if isinstance(node, Conditional):
        return Conditional(kids[0], kids[1], kids[2], pos=node.pos)
    if isinstance(node, ListExpr):
        return ListExpr(kids, pos=node.pos)
    if isinstance(node, MapExpr):
        return MapExpr(tuple(zip(kids[::2], kids[1::2], strict=True)), pos=node.pos)
    if isinstance(node, Call):
        if node.target is not None:
            return Call(node.function, kids[1:], kids[0], pos=node.pos)
        return Call(node.function, kids, None, pos=node.pos)
    if isinstance(node, Comprehension):
        return Comprehension(node.kind, kids[0], node.var, kids[1],
                             kids[2] if len(kids) > 2 else None, pos=node.pos)
    raise TypeError(f"not an AST node: {node!r}")


def map_literals(node: Expr, fn: Any) -> Expr:
    """Rebuild ``node`` with every Literal replaced by ``fn(literal)``."""
    if isinstance(node, Literal):
        return fn(node)  # type: ignore[no-any-return]
    kids = children(node)
    if not kids:
        return node
    return with_children(node, tuple(map_literals(k, fn) for k in kids))


def qualified_variable(node: Expr, variables: frozenset[str] | set[str],
                       ) -> tuple[str, tuple[str, ...]] | None:
    """For ``a.b.c`` with a variable declared as ``a.b``: ``("a.b", ("c",))`` (longest prefix).

    CEL resolves dotted names against declarations before field selection.
    """
    if not isinstance(node, Select) or node.test_only:
        return None
    path = path_of(node)
    if path is None:
        return None
    for k in range(len(path), 1, -1):
        name = ".".join(path[:k])
        if name in variables:
            return name, path[k:]
    return None
