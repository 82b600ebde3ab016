"""Lint: warnings about rules that are valid CEL but probably not what their author meant.

Nothing here changes what an expression means; every warning names the sub-expression and
the types involved. A field read from an event is ``dyn`` — its type is only known when an
event arrives — so the warnings are about comparisons whose literal side makes the
intended type visible:

* an ordering against a string that spells a number (``async.data.amount > "100"``): true
  only when the field is a string, compared character by character ("9" > "100"), and an
  error (no match) when it is a number;
* one field compared with literals of different types in one rule
  (``x == 1 || x == "1"``): a field holds one type per event, so one of the comparisons is
  always false or an error.
"""

from __future__ import annotations

import re
from typing import Any

from . import _ast as A
from ._unparse import unparse
from ._values import UInt, cel_type_name

_ORDERING = frozenset({"<", "<=", ">", ">="})
_COMPARISON = _ORDERING | {"==", "!="}
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NUMERIC = (int, float, UInt)


def _kind(value: Any) -> str:
    """The family a literal belongs to for comparison: numbers compare with each other."""
    if type(value) in _NUMERIC:
        return "number"
    return cel_type_name(value)


def _field_and_literal(node: A.Binary, variables: frozenset[str],
                       bound: frozenset[str]) -> tuple[A.Expr, A.Literal] | None:
    for field, other in ((node.left, node.right), (node.right, node.left)):
        base = A.path_root(field)
        if isinstance(other, A.Literal) and type(other.value) not in (A.Slot, A.ErrorValue) \
                and base is not None and isinstance(field, (A.Select, A.Index)) \
                and (base.name in variables or A.in_scope(base, bound)):
            return field, other
    return None


def _walk(tree: A.Expr) -> list[tuple[A.Binary, frozenset[str]]]:
    """Every comparison in ``tree`` with the comprehension variables in scope there."""
    out: list[tuple[A.Binary, frozenset[str]]] = []
    stack: list[tuple[A.Expr, frozenset[str]]] = [(tree, frozenset())]
    while stack:
        node, bound = stack.pop()
        if isinstance(node, A.Binary) and node.op in _COMPARISON:
            out.append((node, bound))
        stack.extend(A.scoped_children(node, bound))
    out.sort(key=lambda pair: pair[0].pos)
    return out


def lint(tree: A.Expr, variables: frozenset[str]) -> list[str]:
    """Warnings for ``tree`` (see the module docstring), in source order, without repeats."""
    warnings: list[str] = []
    seen: dict[str, tuple[str, str]] = {}  # field text → (kind, literal text) first seen
    for node, bound in _walk(tree):
        pair = _field_and_literal(node, variables, bound)
        if pair is None:
            continue
        field, literal = pair
        name, value = unparse(field), literal.value
        if node.op in _ORDERING and type(value) is str and _NUMBER_TEXT.fullmatch(value.strip()):
            warnings.append(
                f"{unparse(node)} compares {name} with a string: it holds only when {name} "
                f"is a string, compared character by character, and is an error (no match) "
                f"when it is an int or a double — did you mean {value.strip()} without quotes?")
        if value is None:
            continue  # `x == null` next to `x == 1` is a presence test, not a type mix-up
        kind, text = _kind(value), unparse(literal)
        first = seen.setdefault(name, (kind, text))
        if first[0] != kind:
            warnings.append(
                f"{name} is compared with a {first[0]} ({first[1]}) and with a {kind} ({text}):"
                f" an event holds one type in {name}, so one of these comparisons is always "
                "false or an error")
            seen[name] = (kind, text)
    return list(dict.fromkeys(warnings))
