"""Access: choose the one atom of each clause that the index looks it up by.

Preference follows selectivity: ``path == literal`` (a hash lookup), ``path in [...]``
(a few hash lookups), ``path.startsWith(literal)`` (a prefix table), ranges
``< <= > >=`` (a sorted table), then ``has(path)``. Only positive atoms qualify, and only
when the path is rooted at ``async`` (the incoming event). The remaining atoms are
verified on each candidate; a clause without an indexable atom is always evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import _ast as A
from ._normalize import Atom, Clause
from ._values import UInt

HASHABLE = (str, bytes, int, UInt, float, bool, type(None))
ORDERABLE = (str, int, UInt, float)
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
RANK = {"eq": 0, "in": 1, "prefix": 2, "range": 3, "has": 4}


@dataclass(frozen=True, slots=True)
class Access:
    """How a clause is found: ``kind`` on ``path`` (below ``async``) with ``operand``.

    kind ``eq``: operand is one literal value (or Slot); ``in``: a tuple of them or one
    Slot holding a list; ``prefix``: a string; ``range``: ``(op, bound)`` with the path on
    the left; ``has``: None; ``scan``: no access atom, the clause is always evaluated.
    """

    kind: str
    path: tuple[str, ...]
    operand: Any
    atom: Atom | None


SCAN = Access("scan", (), None, None)


def _value_type(v: Any) -> type:
    return v.type if type(v) is A.Slot else type(v)


def _async_path(node: A.Expr) -> tuple[str, ...] | None:
    path = A.path_of(node)
    if path is None or path[0] != "async" or len(path) < 2:
        return None
    return path[1:]


def _literal(node: A.Expr) -> Any:
    return node.value if isinstance(node, A.Literal) else _NO


_NO = object()


def _candidate(atom: Atom) -> Access | None:
    node, positive = atom
    if not positive:
        return None
    if isinstance(node, A.Select) and node.test_only:
        path = _async_path(A.Select(node.operand, node.field))
        return Access("has", path, None, atom) if path else None
    if isinstance(node, A.Call) and node.function == "startsWith" and node.target is not None \
            and len(node.args) == 1:
        path, v = _async_path(node.target), _literal(node.args[0])
        if path and v is not _NO and _value_type(v) is str:
            return Access("prefix", path, v, atom)
        return None
    if not isinstance(node, A.Binary):
        return None
    if node.op == "in":
        path = _async_path(node.left)
        if path is None:
            return None
        if isinstance(node.right, A.ListExpr):
            items = [_literal(i) for i in node.right.items]
            if items and all(i is not _NO and _value_type(i) in HASHABLE for i in items):
                return Access("in", path, tuple(items), atom)
            return None
        v = _literal(node.right)
        if v is not _NO and _value_type(v) is list:
            return Access("in", path, v, atom)
        return None
    if node.op in ("==", "<", "<=", ">", ">="):
        left, right, op = node.left, node.right, node.op
        if _async_path(left) is None:
            left, right, op = right, left, _FLIP.get(op, op)
        path, v = _async_path(left), _literal(right)
        if path is None or v is _NO:
            return None
        vt = _value_type(v)
        if op == "==":
            return Access("eq", path, v, atom) if vt in HASHABLE else None
        if vt in ORDERABLE:
            return Access("range", path, (op, v), atom)
    return None


def choose(clause: Clause) -> tuple[Access, Clause]:
    """The access atom of ``clause`` and the atoms left to verify."""
    best: Access | None = None
    for atom in clause:
        cand = _candidate(atom)
        if cand is not None and (best is None or RANK[cand.kind] < RANK[best.kind]):
            best = cand
    if best is None:
        return SCAN, clause
    rest = tuple(a for a in clause if a is not best.atom)
    return best, rest


def describe(access: Access, values: Sequence[Any] | None = None) -> str:
    """A one-line description, e.g. ``hash async.data.reminderId == "r_1"``."""
    from ._unparse import literal

    def show(v: Any) -> str:
        if type(v) is A.Slot:
            return literal(values[v.index]) if values is not None else f"<event value {v.index}>"
        return literal(v)

    where = "async." + ".".join(access.path)
    if access.kind == "eq":
        return f"hash {where} == {show(access.operand)}"
    if access.kind == "in":
        ops = access.operand
        shown = show(ops) if type(ops) is A.Slot else "[" + ", ".join(show(v) for v in ops) + "]"
        return f"hash {where} in {shown}"
    if access.kind == "prefix":
        return f"prefix {where}.startsWith({show(access.operand)})"
    if access.kind == "range":
        op, bound = access.operand
        return f"range {where} {op} {show(bound)}"
    if access.kind == "has":
        return f"presence has({where})"
    return "scan (always evaluated)"
