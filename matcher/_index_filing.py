"""Index filing: how one listener's clause is filed under its access atom, and re-checked.

A clause plan (``_plans``) says which atom a clause is looked up by; the listener's trigger
values say the operand. ``resolve`` turns the two into a status and a table operand, ``fill``
stores the result in a table entry, and ``access_holds`` answers the access atom for one
event the way the tables do (``ListenerIndex.test`` uses it for late listeners).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import _ast as A
from ._access import SCAN, Access
from ._index_strings import size_of
from ._index_tables import MISSING, RangeTable, as_ordered, extract, inexact, key_of
from ._plans import ClausePlan, full_clause_plan

USABLE, CHECKED, SCAN_IT, NEVER = "usable", "checked", "scan", "never"
_WIDEN = {">": ">=", "<": "<=", ">=": ">=", "<=": "<="}


def _value(v: Any, values: Sequence[Any]) -> Any:
    return values[v.index] if type(v) is A.Slot else v


def resolve(access: Access, values: Sequence[Any]) -> tuple[str, Any]:
    """How to file a clause under its access atom, with the resolved operand.

    USABLE: the table answers the atom exactly. CHECKED: a numeric key or bound at or
    beyond 2**53 (see ``inexact``) — the table finds a superset (for ranges the operator
    is widened to take in ties) and the clause's verifier re-checks the atom. SCAN_IT: no
    key can stand for the operand (a list or map compared with ``==``). NEVER: the atom
    can never hold (a NaN, an empty ``in`` list).
    """
    kind = access.kind
    if kind == "eq":
        v = _value(access.operand, values)
        k = key_of(v)
        if k is None:
            return (NEVER if type(v) is float else SCAN_IT), None
        return (CHECKED if inexact(k) else USABLE), k
    if kind == "in":
        items = [_value(i, values) for i in _value(access.operand, values)]
        items = [i for i in items if not (type(i) is float and i != i)]  # NaN: in nothing
        keys = [key_of(i) for i in items]
        if any(k is None for k in keys):
            return SCAN_IT, None
        if not keys:
            return NEVER, None
        return (CHECKED if any(inexact(k) for k in keys) else USABLE), tuple(dict.fromkeys(keys))
    if kind in ("prefix", "suffix", "contains"):
        return USABLE, _value(access.operand, values)
    if kind == "range" or kind == "size":
        op, bound = access.operand
        bound = as_ordered(_value(bound, values))
        if RangeTable.domain(bound) is None:
            return NEVER, None  # a NaN bound: the comparison is never true
        if inexact(bound):
            return CHECKED, (_WIDEN[op], bound)
        return USABLE, (op, bound)
    return USABLE, None


def fill(entry: Any, cp: ClausePlan, text: str, values: Sequence[Any]) -> tuple[Access, Any] | None:
    """Set ``entry.verify`` for clause ``cp``; returns (access, operand) to file it under,
    or None when the clause can never hold."""
    status, operand = resolve(cp.access, values)
    if status is NEVER:
        return None
    if status is SCAN_IT:  # no key at all: evaluate the whole clause on every event
        entry.verify = full_clause_plan(text, cp.clause).verifier(values)
        return SCAN, None
    if status is CHECKED:  # filed under a superset key: verify the access atom too
        entry.verify = full_clause_plan(text, cp.clause).verifier(values)
        return cp.access, operand
    entry.verify = cp.verifier(values) if cp.make is not None else None
    return cp.access, operand


def filing(cp: ClausePlan, values: Sequence[Any]) -> tuple[Access, Any, bool]:
    """(access, operand, whether the whole clause is verified) as ``fill`` decided them."""
    status, operand = resolve(cp.access, values)
    if status is SCAN_IT:
        return SCAN, None, True
    return cp.access, operand, status is CHECKED or not cp.access.exact


def access_holds(access: Access, operand: Any, event: dict[str, Any]) -> bool:
    """Does the table of ``access`` find this clause for ``event``? (Exact, or a superset
    where the clause is filed ``checked`` or the access is inexact.)"""
    kind = access.kind
    if kind == "scan":
        return True
    v = extract(event, access.path)
    if v is MISSING:
        return False
    if kind == "eq":
        return key_of(v) is not None and key_of(v) == operand
    if kind == "in":
        return key_of(v) is not None and key_of(v) in operand
    if kind in ("prefix", "suffix", "contains"):
        if type(v) is not str:
            return False
        return (v.startswith(operand) if kind == "prefix" else v.endswith(operand)
                if kind == "suffix" else operand in v)
    if kind == "range" or kind == "size":
        if kind == "size":
            v = size_of(v)
            if v is None:
                return False
        op, bound = operand
        if RangeTable.domain(v) != RangeTable.domain(bound):
            return False
        v = as_ordered(v)
        held: bool = {"<": v < bound, "<=": v <= bound, ">": v > bound, ">=": v >= bound}[op]
        return held
    return True  # has
