"""Plan: a rule's clauses, access predicates and verifiers, per rule text and value types.

``plan_for(rule, values)`` is the per-registration entry point: it looks up (or builds,
once per rule and signature) the plan, whose clause verifiers are shared code objects
taking the listener's hole values as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import _ast as A
from ._access import SCAN, Access, choose
from ._caches import put_bounded, register
from ._interpolate import Rule, bind_values, signature, specialize
from ._normalize import Clause, TooManyClauses, atom_expr, dnf
from ._program import factory_for
from ._unparse import unparse

ASYNC = frozenset({"async"})


@dataclass(frozen=True, slots=True)
class ClausePlan:
    """One DNF clause: its access atom and the factory of the verifier of the rest."""

    access: Access
    clause: Clause
    verify_tree: A.Expr | None
    make: Any
    consts: tuple[Any, ...]
    shared: Any = None  # the verifier itself when it reads no trigger value

    def verifier(self, values: Sequence[Any]) -> Any:
        """The compiled check of the non-access atoms, bound to ``values`` (or None).

        A verifier that reads no trigger value (``async.data.status != "archived"``) is
        one function shared by every listener of the plan: less memory per listener and
        fewer cache misses when a million of them are pending.
        """
        if self.shared is not None or self.make is None:
            return self.shared
        return self.make(*[values[c.index] if type(c) is A.Slot else c for c in self.consts])


@dataclass(frozen=True, slots=True)
class Plan:
    """A rule's clauses for one signature of trigger values; shared by every listener of
    the rule with that signature (listeners keep only a reference)."""

    clauses: tuple[ClausePlan, ...]
    capped: bool  # DNF over the cap: one clause verifying the whole residual
    rule: Rule

    @property
    def bare(self) -> bool:
        """Listeners keep their only trigger value bare, not in a 1-tuple (48 B less)."""
        return len(self.rule.holes) == 1


def _conjunction(atoms: Clause, display: bool = False) -> A.Expr | None:
    """The clause as one expression; ``display`` writes negative atoms as ``!(x)``."""
    if not atoms:
        return None
    if display:
        exprs = tuple(n if pos else A.Unary("!", n, pos=n.pos) for n, pos in atoms)
    else:
        exprs = tuple(atom_expr(a) for a in atoms)
    return exprs[0] if len(exprs) == 1 else A.And(exprs)


def _clause_plan(text: str, access: Access, clause: Clause, rest: Clause) -> ClausePlan:
    tree = _conjunction(rest)
    if tree is None:
        return ClausePlan(access, clause, None, None, ())
    make, consts = factory_for(text, tree, ASYNC)
    shared = None if any(type(c) is A.Slot for c in consts) else make(*consts)
    return ClausePlan(access, clause, tree, make, tuple(consts), shared)


def full_clause_plan(text: str, clause: Clause) -> ClausePlan:
    """The same clause with no access atom: verify everything (the scan fallback)."""
    return _clause_plan(text, SCAN, clause, clause)


class PlanCache:
    """(rule text, signature) → Plan."""

    MAX_CLAUSES = 16
    """DNF clause cap. Five cancel rules with a few ``||`` each stay far below it; past it
    the listener is evaluated on every event of its name (correct, just slower)."""

    MAX_ENTRIES = 8192

    def __init__(self) -> None:
        self._plans: dict[tuple[str, tuple[Any, ...]], Plan] = {}

    def plan_for(self, rule: Rule, values: Sequence[Any]) -> Plan:
        key = (rule.text, signature(values))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._build(rule, key[1])
            put_bounded(self._plans, key, plan, self.MAX_ENTRIES)
        return plan

    def _build(self, rule: Rule, sig: tuple[Any, ...]) -> Plan:
        tree = specialize(rule.template, sig)
        try:
            clauses = dnf(tree, self.MAX_CLAUSES)
        except TooManyClauses:
            make, consts = factory_for(rule.text, tree, ASYNC)
            shared = None if any(type(c) is A.Slot for c in consts) else make(*consts)
            whole = ClausePlan(SCAN, (), tree, make, tuple(consts), shared)
            return Plan((whole,), True, rule)
        plans = []
        for clause in clauses:
            access, rest = choose(clause)
            plans.append(_clause_plan(rule.text, access, clause, rest))
        return Plan(tuple(plans), False, rule)


PLANS = PlanCache()
register("plans", lambda: len(PLANS._plans), lambda: PlanCache.MAX_ENTRIES)


def residual_text(plan: Plan, values: Sequence[Any]) -> str:
    """The rule after substituting the trigger values, as CEL text (DNF clauses joined)."""
    if plan.capped:
        tree = plan.clauses[0].verify_tree
        return unparse(bind_values(tree, values)) if tree is not None else "true"
    if not plan.clauses:
        return "false"
    parts = []
    for cp in plan.clauses:
        tree = _conjunction(cp.clause, display=True)
        parts.append("true" if tree is None else unparse(bind_values(tree, values)))
    if len(parts) == 1:
        return parts[0]
    return " || ".join(f"({p})" if " && " in p or " || " in p else p for p in parts)
