"""Explain: how a rule is indexed — residual, DNF clauses, the access of each clause.

With a trigger event, its values are substituted exactly as ``ListenerIndex.add`` does.
Without one, the plan is shown for string trigger values (ids, the common case; a
trigger-only condition is taken to hold), and
``depends_on`` says, for every trigger value whose type changes the plan, which plan each
JSON type gets: ``async.data.tag in event.data.tags`` is a scan when ``tags`` is a string
but a hash lookup when it is a list, and never fires when it is missing.
"""

from __future__ import annotations

from typing import Any

from . import _ast as A
from ._checker import check, check_rule
from ._index import explain_plan
from ._interpolate import HOLE_VARIABLES, Rule, split_rule
from ._parser import parse
from ._plans import PLANS
from ._unparse import unparse

VARIABLES = frozenset({"event", "async"})

SAMPLES: tuple[tuple[str, Any], ...] = (
    ("string", ""), ("int", 0), ("double", 0.0), ("true", True), ("false", False),
    ("null", None), ("list", [""]), ("map", {}),
    ("missing", A.ErrorValue("no such key")),
)
"""One value per kind of JSON a trigger field can hold (a plan depends on value types
only, and on bools by value)."""


def explain(expression: str, trigger: dict[str, Any] | None = None) -> dict[str, Any]:
    """How a rule would be indexed: residual, DNF clauses and the access of each.

    Without a trigger event the ``event`` values stay symbolic (shown as their source) and
    ``depends_on`` lists how the plan changes with their types. Raises CompileError for a
    bad expression (one that can never be a bool included).
    """
    tree = parse(expression) if expression.strip() else A.Literal(True)
    check_rule(tree, expression, VARIABLES)
    rule = split_rule(expression, tree)
    if trigger is not None:
        values = rule.evaluate_holes(trigger)
        return explain_plan(rule, PLANS.plan_for(rule, values), values)
    neutral = _neutral(rule)
    out = explain_plan(rule, PLANS.plan_for(rule, neutral), None)
    out["depends_on"] = [d for d in (_dependence(rule, neutral, i)
                                     for i in range(len(rule.holes))) if d]
    return out


def _neutral(rule: Rule) -> list[Any]:
    """The values the symbolic plan assumes: ``true`` for a trigger-only condition (so the
    rest of the rule is shown), a string for everything else (ids, the common case)."""
    return [True if check(h, rule.text, HOLE_VARIABLES) == "bool" else "" for h in rule.holes]


def _dependence(rule: Rule, neutral: list[Any], hole: int) -> dict[str, Any] | None:
    """How the plan varies with the type of trigger value ``hole`` (None: it does not)."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for name, sample in SAMPLES:
        values = list(neutral)
        values[hole] = sample
        shown = explain_plan(rule, PLANS.plan_for(rule, values), None)
        outcome = ("never fires",) if shown["never_fires"] else tuple(
            c["access"] for c in shown["clauses"])
        groups.setdefault(outcome, []).append(name)
    if len(groups) == 1:
        return None
    return {"value": unparse(rule.holes[hole]),
            "plans": [{"when": names, "access": list(outcome)} for outcome, names in groups.items()]}
