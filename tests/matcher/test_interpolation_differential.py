"""Differential: the index on widened rules equals evaluating each rule (issue 8).

The rules of ``rule_grammar``'s widened section put a trigger value of every JSON type in
every operand position, error-valued trigger holes everywhere (inside macros, under ``!``,
in comparisons of boolean sub-expressions, past the DNF cap) and macro variables that
shadow ``event``, ``async`` and ``google``. For every listener set and event, the index
must report exactly the runs brute force reports, ``add()`` must never raise for a rule
that compiles, and a listener reported ``never_fires`` must never match.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from index_mirror import Mirror
from rule_grammar import hypothesis_settings, wide_incoming_event, wide_listener_fields


@st.composite
def wide_scenarios(draw: st.DrawFn) -> dict[str, Any]:
    fields = draw(st.lists(wide_listener_fields(), min_size=1, max_size=6))
    return {"listeners": [{"listener_id": f"l{i}", **f} for i, f in enumerate(fields)],
            "events": draw(st.lists(wide_incoming_event(), min_size=1, max_size=5))}


def run_wide_scenario(scenario: dict[str, Any], stats: Counter[str]) -> None:
    """Add every listener, compare every event; counts what happened into ``stats``."""
    mirror = Mirror()
    for spec in scenario["listeners"]:
        stats[mirror.add(spec).status] += 1
    mirror.check_structure()
    for event in scenario["events"]:
        stats["events"] += 1
        stats["events_matched"] += mirror.check_event(event)
    stats["scenarios"] += 1


def test_widened_rules_match_brute_force() -> None:
    stats: Counter[str] = Counter()

    @hypothesis_settings(max_examples=250)
    @given(wide_scenarios())
    def check(scenario: dict[str, Any]) -> None:
        run_wide_scenario(scenario, stats)

    check()
    # Not vacuous: rules are stored and never fire, events match and do not.
    assert stats["stored"] > stats["scenarios"] and stats["never_fires"] > 0, stats
    assert 0.05 * stats["events"] < stats["events_matched"] < 0.95 * stats["events"], stats
