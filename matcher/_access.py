"""Access: choose the one atom of each clause that the index looks it up by.

Preference follows selectivity: ``path == literal`` (a hash lookup), ``path in [...]``
(a few hash lookups), ``path.startsWith(s)`` (a prefix table), ``path.endsWith(s)`` (a
suffix table), ``path.contains(s)`` (an Aho–Corasick automaton), ranges ``< <= > >=`` (a
sorted table), ``size(path) < n`` and friends (a sorted table over sizes), then
``has(path)``. ``path.matches(re)`` is served by the prefix or substring table when the
pattern has a literal prefix or a required literal (``_index_regex``): such an access is
*inexact* (a necessary condition only), so the atom stays in the clause's verifier.
Only positive atoms qualify, and only when the path is rooted at ``async`` (the incoming
event). The remaining atoms are verified on each candidate; a clause without an indexable
atom is always evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import _ast as A
from ._index_regex import literals
from ._normalize import Atom, Clause
from ._values import UInt

HASHABLE = (str, bytes, int, UInt, float, bool, type(None))
ORDERABLE = (str, int, UInt, float)
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
RANK = {"eq": 0, "in": 1, "prefix": 2, "suffix": 3, "contains": 4, "range": 5, "size": 6,
        "has": 7}
_STRING_CALLS = {"startsWith": "prefix", "endsWith": "suffix", "contains": "contains"}


@dataclass(frozen=True, slots=True)
class Access:
    """How a clause is found: ``kind`` on ``path`` (below ``async``) with ``operand``.

    kind ``eq``: operand is one literal value (or Slot); ``in``: a tuple of them or one
    Slot holding a list; ``prefix`` / ``suffix`` / ``contains``: a string (or Slot);
    ``range``: ``(op, bound)`` with the path on the left; ``size``: ``(op, bound)`` on
    the size of the value at ``path``; ``has``: None; ``scan``: no access atom, the
    clause is always evaluated. ``exact`` is False when the table only finds a superset
    of the events for which the atom holds (``matches``): the atom is then verified too.
    """

    kind: str
    path: tuple[str, ...]
    operand: Any
    atom: Atom | None
    exact: bool = True


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
    if isinstance(node, A.Call):
        return _call_candidate(node, atom)
    if not isinstance(node, A.Binary):
        return None
    if node.op == "in":
        return _in_candidate(node, atom)
    if node.op in ("==", "<", "<=", ">", ">="):
        left, right, op = node.left, node.right, node.op
        if _async_path(left) is None and _sized_path(left) is None:
            left, right, op = right, left, _FLIP.get(op, op)
        v = _literal(right)
        if v is _NO:
            return None
        vt = _value_type(v)
        path = _async_path(left)
        if path is None:
            sized = _sized_path(left)
            if sized and op != "==" and vt in _NUMBERS:
                return Access("size", sized, (op, v), atom)
            return None
        if op == "==":
            return Access("eq", path, v, atom) if vt in HASHABLE else None
        if vt in ORDERABLE:
            return Access("range", path, (op, v), atom)
    return None


_NUMBERS = (int, UInt, float)


def _sized_path(node: A.Expr) -> tuple[str, ...] | None:
    """The async path of ``size(path)`` or ``path.size()``, else None."""
    if not isinstance(node, A.Call) or node.function != "size":
        return None
    if node.target is not None and not node.args:
        return _async_path(node.target)
    if node.target is None and len(node.args) == 1:
        return _async_path(node.args[0])
    return None


def _call_candidate(node: A.Call, atom: Atom) -> Access | None:
    """``path.startsWith / endsWith / contains (s)`` and ``path.matches(re)``."""
    if node.target is None or len(node.args) != 1:
        return None
    path, v = _async_path(node.target), _literal(node.args[0])
    if path is None or v is _NO or _value_type(v) is not str:
        return None
    kind = _STRING_CALLS.get(node.function)
    if kind is not None:
        return Access(kind, path, v, atom)
    if node.function != "matches" or type(v) is not str:
        return None  # a pattern from the trigger: analysed per rule, not per listener
    lits = literals(v)
    if lits.prefix:
        return Access("prefix", path, lits.prefix, atom, exact=False)
    if lits.required:
        return Access("contains", path, lits.required, atom, exact=False)
    return None


def _in_candidate(node: A.Binary, atom: Atom) -> Access | None:
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


def _rank(access: Access) -> tuple[int, bool]:
    return RANK[access.kind], not access.exact


def choose(clause: Clause) -> tuple[Access, Clause]:
    """The access atom of ``clause`` and the atoms left to verify."""
    best: Access | None = None
    for atom in clause:
        cand = _candidate(atom)
        if cand is not None and (best is None or _rank(cand) < _rank(best)):
            best = cand
    if best is None:
        return SCAN, clause
    if not best.exact:
        return best, clause
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
    if not access.exact:  # from matches(): the literal narrows, the regex decides
        table = "prefix" if access.kind == "prefix" else "substring"
        return f"{table} {where} has {show(access.operand)} (then the regex is checked)"
    if access.kind in ("prefix", "suffix", "contains"):
        table = {"prefix": "prefix", "suffix": "suffix", "contains": "substring"}[access.kind]
        call = {"prefix": "startsWith", "suffix": "endsWith", "contains": "contains"}[access.kind]
        return f"{table} {where}.{call}({show(access.operand)})"
    if access.kind == "range":
        op, bound = access.operand
        return f"range {where} {op} {show(bound)}"
    if access.kind == "size":
        op, bound = access.operand
        return f"size size({where}) {op} {show(bound)}"
    if access.kind == "has":
        return f"presence has({where})"
    return "scan (always evaluated)"
