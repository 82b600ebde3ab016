"""Normalize: negation push-down and disjunctive normal form with exact polarity.

Under CEL's error semantics ``a || b`` is true exactly when one side is true and
``a && b`` exactly when both are, so a DNF is exact if each atom keeps its polarity: a
positive atom must evaluate to ``true``, a negative one to ``false`` — never to an error
(``!(x < 1)`` is not ``x >= 1`` when x is a string or NaN). De Morgan holds in that
reading: ``!(a && b)`` is true iff some operand is false. ``c ? a : b`` is true iff
``(c ∧ a) ∨ (¬c ∧ b)``. An atom that certainly errors (an ``event`` field missing from the
trigger, outside any error-absorbing operator) is never true and drops its clause.
"""

from __future__ import annotations

from . import _ast as A

Atom = tuple[A.Expr, bool]  # (expression, positive)
Clause = tuple[Atom, ...]

TRUE: list[Clause] = [()]
FALSE: list[Clause] = []


class TooManyClauses(Exception):
    """The DNF would exceed the cap; the listener is evaluated whole instead."""


def certain_error(node: A.Expr) -> bool:
    """True if evaluating ``node`` certainly raises (an error slot not under && || ?: or a macro)."""
    if isinstance(node, A.Literal):
        return type(node.value) is A.Slot and node.value.type is A.ErrorValue
    if isinstance(node, (A.And, A.Or, A.Conditional, A.Comprehension)):
        return False
    return any(certain_error(k) for k in A.children(node))


def dnf(node: A.Expr, max_clauses: int, positive: bool = True) -> list[Clause]:
    """Clauses (conjunctions of polarized atoms) whose disjunction is exactly ``node``."""
    if isinstance(node, A.Unary) and node.op == "!":
        return dnf(node.operand, max_clauses, not positive)
    if isinstance(node, (A.And, A.Or)):
        conj = isinstance(node, A.And) == positive
        parts = [dnf(t, max_clauses, positive) for t in node.terms]
        return _product(parts, max_clauses) if conj else _union(parts, max_clauses)
    if isinstance(node, A.Conditional):
        c_true, c_false = dnf(node.cond, max_clauses), dnf(node.cond, max_clauses, False)
        then, other = dnf(node.then, max_clauses, positive), dnf(node.otherwise, max_clauses, positive)
        return _union([_product([c_true, then], max_clauses),
                       _product([c_false, other], max_clauses)], max_clauses)
    if isinstance(node, A.Literal):
        v = node.value
        if v is True or v is False:
            return TRUE if v is positive else FALSE
        return FALSE  # a non-bool is neither true nor false: never a match
    if certain_error(node):
        return FALSE
    return [((node, positive),)]


def _union(parts: list[list[Clause]], cap: int) -> list[Clause]:
    out: list[Clause] = []
    seen: set[Clause] = set()
    for part in parts:
        for clause in part:
            if clause not in seen:
                seen.add(clause)
                out.append(clause)
    if len(out) > cap:
        raise TooManyClauses(len(out))
    return out


def _product(parts: list[list[Clause]], cap: int) -> list[Clause]:
    acc: list[Clause] = TRUE
    for part in parts:
        nxt: list[Clause] = []
        for left in acc:
            for right in part:
                merged = _merge(left, right)
                if merged is not None:
                    nxt.append(merged)
                    if len(nxt) > cap:
                        raise TooManyClauses(len(nxt))
        acc = nxt
        if not acc:
            return FALSE
    return _union([acc], cap)


def _merge(a: Clause, b: Clause) -> Clause | None:
    """Conjunction of two clauses; None when it contains an atom and its negation."""
    out = list(a)
    have = set(a)
    for atom in b:
        if (atom[0], not atom[1]) in have:
            return None
        if atom not in have:
            have.add(atom)
            out.append(atom)
    return tuple(out)


def atom_expr(atom: Atom) -> A.Expr:
    """A CEL expression that is true exactly when the atom is (``x == false`` if negative)."""
    node, positive = atom
    return node if positive else A.Binary("==", node, A.Literal(False), pos=node.pos)
