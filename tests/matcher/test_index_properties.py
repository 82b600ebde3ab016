"""Index tests: differential properties — ListenerIndex.match equals the brute-force matcher.

For random listener sets (grammar in ``rule_grammar``), random triggers and random incoming
events, the index must report exactly the runs that evaluating every listener's compiled
rule reports: no false negatives, no false positives, one match per run — before and after
random removals. ``idx.test`` must agree listener by listener, and a listener the index
refuses as "never fires" must indeed never match.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from index_mirror import Mirror
from rule_grammar import (
    RUN_IDS,
    hypothesis_settings,
    incoming_event,
    key_data,
    key_event,
    key_rule,
    listener_fields,
    listener_spec,
)


@st.composite
def listener_specs(draw: st.DrawFn, max_size: int = 8) -> list[dict[str, Any]]:
    """Listener specs with distinct ids, plus some exact re-adds (idempotency)."""
    fields = draw(st.lists(listener_fields(), min_size=1, max_size=max_size))
    specs = [{"listener_id": f"l{i}", **f} for i, f in enumerate(fields)]
    repeats = draw(st.lists(st.sampled_from(specs), max_size=2))
    return specs + repeats


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    specs = draw(listener_specs())
    ids = sorted({s["listener_id"] for s in specs})
    removal = st.one_of(
        st.tuples(st.just("remove"), st.sampled_from(ids + ["missing"])),
        st.tuples(st.just("remove_run"), st.sampled_from(RUN_IDS)),
    )
    return {
        "listeners": specs,
        "events": draw(st.lists(incoming_event(), min_size=2, max_size=6)),
        "removals": draw(st.lists(removal, max_size=4)),
    }


def run_scenario(scenario: dict[str, Any], stats: Counter[str]) -> None:
    mirror = Mirror()
    for spec in scenario["listeners"]:
        stats[mirror.add(spec).status] += 1
    mirror.check_structure()
    matched = any([mirror.check_event(e) for e in scenario["events"]])
    for op, arg in scenario["removals"]:
        getattr(mirror, op)(arg)
        mirror.check_structure()
    matched_after = any([mirror.check_event(e) for e in scenario["events"]])
    stats["examples"] += 1
    stats["with_match"] += matched
    stats["with_match_after_removals"] += matched_after


def test_match_equals_brute_force() -> None:
    stats: Counter[str] = Counter()

    @hypothesis_settings()
    @given(scenarios())
    def check(scenario: dict[str, Any]) -> None:
        run_scenario(scenario, stats)

    check()
    # Not vacuous: many examples must really cancel something, and rules must be stored.
    assert stats["with_match"] >= 0.3 * stats["examples"], stats
    assert stats["with_match_after_removals"] >= 0.1 * stats["examples"], stats
    assert stats["stored"] >= 5 * stats["examples"] // 2, stats
    assert stats["never_fires"] > 0 and stats["duplicate"] > 0, stats


@hypothesis_settings(max_examples=100)
@given(st.lists(listener_spec("l"), min_size=1, max_size=1), st.lists(incoming_event(),
       min_size=3, max_size=6))
def test_single_listener_agrees_on_every_event(specs: list[dict[str, Any]],
                                               events: list[dict[str, Any]]) -> None:
    """One listener at a time: a disagreement here shrinks to a one-rule reproduction."""
    mirror = Mirror()
    mirror.add(specs[0])
    for event in events:
        mirror.check_event(event)


def check_key_rules(example: tuple[list[tuple[str, dict[str, Any]]], list[dict[str, Any]]]
                    ) -> bool:
    """One listener (own run, own trigger) per rule; every event compared. True on a match."""
    rules, events = example
    mirror = Mirror()
    for i, (rule, trigger_data) in enumerate(rules):
        trigger = {"name": "created", "id": "t", "ts": 0, "data": trigger_data}
        mirror.add({"listener_id": f"l{i}", "event": "cancel", "expression": rule,
                    "trigger": trigger, "run_id": f"r{i}", "env": "prod",
                    "expires_at": None, "run_started_at": None})
    return any([mirror.check_event(event) for event in events])


def key_examples(table: str) -> st.SearchStrategy[Any]:
    rules = st.lists(st.tuples(key_rule(table), key_data(table)), min_size=1, max_size=10)
    return st.tuples(rules, st.lists(key_event(table), min_size=1, max_size=8))


@pytest.mark.parametrize(("table", "max_examples"), [("mixed", 400), ("big", 200)])
def test_keys_follow_cel_equality_and_ordering(table: str, max_examples: int) -> None:
    """mixed: 1 / 1u / 1.0 / true / "1" / b"1" / NaN / -0.0 / null keys; big: ints, uints
    and doubles beyond 2**53, equal or ordered exactly as the compiled program says."""
    stats: Counter[str] = Counter()

    @hypothesis_settings(max_examples=max_examples)
    @given(key_examples(table))
    def check(example: Any) -> None:
        stats["examples"] += 1
        stats["with_match"] += check_key_rules(example)

    check()
    assert stats["with_match"] >= 0.3 * stats["examples"], stats
