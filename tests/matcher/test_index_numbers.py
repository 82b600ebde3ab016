"""Index tests: numbers at the edges of exact doubles (±2**53, ±2**63, 2**64-1, -0.0, NaN, ±inf).

The index files numeric keys and bounds as doubles because CEL compares an int with a double
by rounding the int; from 2**53 on, distinct ints share a double, so a key or bound there
must never decide a match on its own. The first table pins each case of issue 8 (I1) with the
answer worked out by hand from the CEL rules (int against int or uint exactly, against a
double after rounding the int); the properties then compare the index with brute-force
evaluation over boundary values in every operand position: rule literal, trigger value
(``match: data.k``), ``in`` list item, range bound, and the incoming event's value.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from index_mirror import Mirror
from rule_grammar import COMPARISONS, EVENT_IDS, hypothesis_settings

import matcher
from matcher import UInt

P53 = 2**53
P63 = 2**63

# (rule, trigger data, event data, expected) — expected from the CEL spec, by hand.
CASES = [
    # issue 8 I1 as filed: an int key 2**53 must not take in the int 2**53 + 1.
    ("async.data.a == 9007199254740992", {}, {"a": P53 + 1}, False),
    ("async.data.a == 9007199254740992", {}, {"a": P53}, True),
    ("async.data.a == 9007199254740992", {}, {"a": float(P53)}, True),
    ("async.data.a > 9007199254740992", {}, {"a": P53 + 1}, True),
    ("async.data.a >= 9007199254740993", {}, {"a": P53 + 1}, True),
    ("async.data.a >= 9007199254740993", {}, {"a": P53}, False),
    ("async.data.a < 9007199254740993", {}, {"a": P53}, True),
    ("async.data.a < 9007199254740993", {}, {"a": P53 + 1}, False),
    ("async.data.a <= 9007199254740992", {}, {"a": P53 + 1}, False),
    ("async.data.a in [9007199254740992]", {}, {"a": P53 + 1}, False),
    ("async.data.a in [1, 9007199254740993]", {}, {"a": P53 + 1}, True),
    ("async.data.a in [1, 9007199254740993]", {}, {"a": P53}, False),
    ("async.data.a == 9007199254740992u", {}, {"a": P53 + 1}, False),
    ("async.data.a > 9007199254740992u", {}, {"a": P53 + 1}, True),
    ("9007199254740992 < async.data.a", {}, {"a": P53 + 1}, True),
    ("-9007199254740993 < async.data.a", {}, {"a": -P53}, True),
    ("async.data.a > -9007199254740993", {}, {"a": -P53}, True),
    # Through the trigger (match: data.a): the substituted value is the operand.
    ("async.data.a == event.data.a", {"a": P53}, {"a": P53 + 1}, False),
    ("async.data.a == event.data.a", {"a": P53}, {"a": P53}, True),
    ("async.data.a in [event.data.a]", {"a": P53}, {"a": P53 + 1}, False),
    ("async.data.a > event.data.a", {"a": P53}, {"a": P53 + 1}, True),
    ("async.data.a in event.data.l", {"l": [P53]}, {"a": P53 + 1}, False),
    # Against a double, CEL rounds the int first: these ARE equal.
    ("async.data.a == 9007199254740992.0", {}, {"a": P53 + 1}, True),
    ("async.data.a < 9007199254740992.0", {}, {"a": P53 + 1}, False),
    ("async.data.a == 9223372036854775808.0", {}, {"a": P63 - 1}, True),
    ("async.data.a == 9223372036854775807", {}, {"a": P63 - 1}, True),
    ("async.data.a == 9223372036854775807", {}, {"a": UInt(P63)}, False),
    ("async.data.a < 9223372036854775808u", {}, {"a": P63 - 1}, True),
    ("async.data.a == 18446744073709551615u", {}, {"a": float(2**64)}, True),
    ("async.data.a == 18446744073709551615u", {}, {"a": UInt(2**64 - 2)}, False),
    ("async.data.a >= 18446744073709551615u", {}, {"a": UInt(2**64 - 2)}, False),
    ("async.data.a < double('inf')", {}, {"a": P63 - 1}, True),
    ("async.data.a > double('-inf')", {}, {"a": -(P63)}, True),
    ("async.data.a == double('inf')", {}, {"a": math.inf}, True),
    ("async.data.a == -0.0", {}, {"a": 0}, True),
    ("async.data.a <= -0.0", {}, {"a": 0}, True),
    ("async.data.a == double('NaN')", {}, {"a": math.nan}, False),
    ("async.data.a < 1", {}, {"a": math.nan}, False),
]


@pytest.mark.parametrize(("rule", "trigger", "data", "expected"), CASES)
def test_numbers_beyond_exact_doubles(rule: str, trigger: dict[str, Any], data: dict[str, Any],
                                      expected: bool) -> None:
    program = matcher.compile(rule, variables=("event", "async"))
    incoming = {"name": "cancel", "id": "e1", "ts": 10, "data": data}
    assert program.try_evaluate({"event": {"data": trigger}, "async": incoming}) is expected
    idx = matcher.ListenerIndex()
    res = idx.add("l", event="cancel", expression=rule, trigger={"id": "t", "data": trigger},
                  run_id="r")
    assert res.stored or not expected
    assert [m.run_id for m in idx.match(incoming)] == (["r"] if expected else [])
    assert idx.test("l", incoming) is (expected and res.stored)
    idx._check()


def test_event_int_past_the_double_range_does_not_break_lookups() -> None:
    idx = matcher.ListenerIndex()
    idx.add("l", event="cancel", expression="async.data.a == 1 || async.data.a > 5",
            trigger={}, run_id="r")
    incoming = {"name": "cancel", "id": "e", "ts": 1, "data": {"a": 2**1100}}
    assert [m.run_id for m in idx.match(incoming)] == ["r"]  # int > int: exact, true


# Boundary values, as (CEL literal, the value an event carries). They feed the rules'
# literals, the triggers and the events alike, so they meet each other often.
BOUNDARY: list[tuple[str, Any]] = [
    ("0", 0), ("1", 1), ("-1", -1),
    ("9007199254740991", P53 - 1), ("9007199254740992", P53), ("9007199254740993", P53 + 1),
    ("9007199254740994", P53 + 2), ("-9007199254740992", -P53),
    ("-9007199254740993", -P53 - 1), ("9223372036854775807", P63 - 1),
    ("-9223372036854775808", -P63),
    ("0u", UInt(0)), ("9007199254740992u", UInt(P53)), ("9007199254740993u", UInt(P53 + 1)),
    ("9223372036854775808u", UInt(P63)), ("18446744073709551615u", UInt(2**64 - 1)),
    ("0.0", 0.0), ("-0.0", -0.0), ("1.0", 1.0), ("0.5", 0.5),
    ("9007199254740992.0", float(P53)), ("9007199254740994.0", float(P53 + 2)),
    ("9223372036854775808.0", float(P63)), ("-9223372036854775808.0", -float(P63)),
    ("18446744073709551616.0", float(2**64)), ("1e300", 1e300),
    ("double('NaN')", math.nan), ("double('inf')", math.inf), ("double('-inf')", -math.inf),
]
OTHERS: list[Any] = ["1", True, None]


@st.composite
def number_rule(draw: st.DrawFn) -> str:
    """A rule over ``async.data.k`` against boundary literals or the trigger's values."""
    lits = [text for text, _ in BOUNDARY]
    p = "async.data.k"
    lit, bound = draw(st.sampled_from(lits)), draw(st.sampled_from(lits))
    op = draw(st.sampled_from(COMPARISONS))
    items = ", ".join(draw(st.lists(st.sampled_from(lits), min_size=1, max_size=3)))
    rule = draw(st.sampled_from([
        f"{p} == {lit}", f"{lit} == {p}", f"{p} != {lit}", f"{p} in [{items}]",
        f"{p} {op} {bound}", f"{bound} {op} {p}", f"{p} == event.data.k",
        f"{p} {op} event.data.k", f"event.data.k {op} {p}", f"{p} in event.data.l",
        f"{p} in [event.data.k, {lit}]",
    ]))
    shape = draw(st.integers(0, 5))
    if shape == 0:
        return f"!({rule})"
    if shape == 1:  # two clauses: multi-clause entries, one possibly checked, one exact
        return f"{rule} || async.data.j == {draw(st.sampled_from(lits))}"
    if shape == 2:  # the access atom beside a verified atom
        return f"{rule} && async.data.j != {draw(st.sampled_from(lits))}"
    return rule


def number_values() -> st.SearchStrategy[Any]:
    return st.sampled_from([v for _, v in BOUNDARY] + OTHERS)


def number_data() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={
        "k": number_values(), "j": number_values(),
        "l": st.lists(number_values(), max_size=3)})


def number_event() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"name": st.just("cancel"), "id": st.sampled_from(EVENT_IDS),
                                  "ts": st.just(100), "data": number_data()})


def check_population(rules: list[tuple[str, dict[str, Any]]],
                     events: list[dict[str, Any]]) -> int:
    """All rules in one index (shared tables); returns how many (listener, event) match."""
    mirror = Mirror()
    mirror.add_rules(rules)
    hits = 0
    for event in events:
        mirror.check_event(event)
        for lst in mirror.naive._listeners:
            if not lst.matches(event):
                continue
            hits += 1
            probes = mirror.idx.probes(lst.listener_id)  # the late-window shortcut
            if probes is not None:
                assert any(mirror.idx.event_key(event, path) in keys for path, keys in probes), (
                    lst.expression, event)
    return hits


def test_boundary_numbers_agree_with_brute_force() -> None:
    """Many rules in one index against many events; not vacuous: real matches compared."""
    stats: Counter[str] = Counter()

    @hypothesis_settings(max_examples=600)
    @given(st.lists(st.tuples(number_rule(), number_data()), min_size=1, max_size=12),
           st.lists(number_event(), min_size=1, max_size=8))
    def check(rules: list[tuple[str, dict[str, Any]]], events: list[dict[str, Any]]) -> None:
        stats["scenarios"] += 1
        stats["hits"] += check_population(rules, events)

    check()
    assert stats["hits"] >= stats["scenarios"], stats
