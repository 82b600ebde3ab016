"""Runtime (charged): the operations whose work grows with a value's size, with a budget.

The generated code calls these where sizes are not known from literals (see ``_cost`` for
the model and ``_codegen`` for where): each charges the evaluation's budget — a two-item
list ``[units left, units at the start]``, spent in place — *before* the work, and raises
``EvaluationAborted`` when it runs out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from matcher._cost import ELEMENT_COST, SCAN_UNIT, value_cost
from matcher._errors import EvaluationAborted
from matcher._runtime import _MISSING, _map_get, add, eq, in_


def charge(budget: list[int], units: int) -> None:
    """Spend ``units``; abort the evaluation when the budget is exhausted."""
    budget[0] -= units
    if budget[0] < 0:
        raise budget_exceeded(budget)


def budget_exceeded(budget: list[int]) -> EvaluationAborted:
    return EvaluationAborted(f"evaluation exceeded its cost budget of {budget[1]} units "
                             "(Limits.max_cost)")


def add_sized(a: Any, b: Any, budget: list[int]) -> Any:
    """CEL ``+``, charging the size of a string, bytes or list before building it."""
    ta = type(a)
    if (ta is str or ta is bytes or ta is list or ta is tuple) and type(b) in _SIZED:
        charge(budget, value_cost(len(a) + len(b)))
    return add(a, b)


_SIZED = frozenset({str, bytes, list, tuple})
_CONTAINER_TYPES = frozenset({list, tuple, dict})


def convert_sized(convert: Callable[[Any], Any], value: Any, budget: list[int]) -> Any:
    """``string(x)`` / ``bytes(x)``, charging the size of the copy a str/bytes becomes."""
    if type(value) is str or type(value) is bytes:
        charge(budget, value_cost(len(value)))
    return convert(value)


SCAN_FREE = 1024
"""Characters a string search (``contains``, ``matches``) reads for free; a longer string
costs one unit per ``_cost.SCAN_UNIT`` characters (a pass in C is ~1 ns per character)."""


def scan_sized(search: Callable[[Any, Any], Any], text: Any, arg: Any, budget: list[int]) -> Any:
    """``search(text, arg)`` charging for the pass over a long string."""
    if type(text) is str and len(text) > SCAN_FREE:
        charge(budget, len(text) // SCAN_UNIT)
    return search(text, arg)




def in_sized(elem: Any, container: Any, budget: list[int]) -> bool:
    """CEL ``in``, charging for every list element it may compare (charged up front)."""
    tc = type(container)
    if tc is not list and tc is not tuple:
        return in_(elem, container)
    charge(budget, ELEMENT_COST * len(container))
    te = type(elem)
    if te is str or te is bytes:
        return elem in container  # Python == on str/bytes is CEL equality
    if te is dict or te is list or te is tuple:
        for x in container:
            if eq_sized(elem, x, budget):
                return True
        return False
    for x in container:  # a scalar: the same type compares with Python's ==
        if (x == elem) if type(x) is te else eq(elem, x):
            return True
    return False


def eq_charged(a: Any, b: Any, budget: list[int]) -> bool:
    """CEL ``==`` where a budget exists: scalars of one type at once, the rest charged."""
    ta = type(a)
    if ta is type(b) and ta not in _CONTAINER_TYPES:
        r: bool = a == b
        return r
    return eq_sized(a, b, budget)


def eq_sized(a: Any, b: Any, budget: list[int]) -> bool:
    """CEL ``==``, charging for every element of the lists and maps it compares."""
    ta, tb = type(a), type(b)
    if ta is dict and tb is dict:
        if len(a) != len(b):
            return False
        charge(budget, ELEMENT_COST * len(a))
        for k, v in a.items():
            other = _map_get(b, k)
            if other is _MISSING or not eq_sized(v, other, budget):
                return False
        return True
    if (ta is list or ta is tuple) and (tb is list or tb is tuple):
        if len(a) != len(b):
            return False
        charge(budget, ELEMENT_COST * len(a))
        for x, y in zip(a, b, strict=True):
            tx = type(x)
            if tx is type(y) and tx not in _CONTAINER_TYPES:
                if not x == y:  # same scalar type: Python's == is CEL's (NaN != NaN too)
                    return False
            elif not eq_sized(x, y, budget):
                return False
        return True
    return eq(a, b)
