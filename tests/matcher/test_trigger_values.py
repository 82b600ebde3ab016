"""Trigger values substituted at registration keep exact CEL semantics (issue 8 I2-I4).

``ListenerIndex.add`` evaluates the parts of a rule that read only ``event`` (the trigger)
once and substitutes their values. Each case here is one that went wrong: a comprehension
variable named ``event`` taken for the trigger (I2), a missing trigger field turned into a
plain value (I3), a substituted value that made the residual ill-typed refused as a
CompileError (I4). The index must say exactly what evaluating the rule as written says.
"""

from __future__ import annotations

from typing import Any

import pytest

import matcher


def brute_force(rule: str, trigger: dict[str, Any], event: dict[str, Any]) -> bool:
    value = matcher.compile(rule).try_evaluate({"event": trigger, "async": event})
    return value is True


def index_matches(rule: str, trigger: dict[str, Any], event: dict[str, Any]) -> bool:
    idx = matcher.ListenerIndex()
    idx.add("l", event="cancel", expression=rule, trigger=trigger, run_id="r")
    idx._check()
    return bool(idx.match(event))


def agree(rule: str, trigger_data: dict[str, Any], event_data: dict[str, Any]) -> bool:
    trigger = {"name": "created", "id": "t", "data": trigger_data}
    event = {"name": "cancel", "id": "e", "ts": 1, "data": event_data}
    expected = brute_force(rule, trigger, event)
    assert index_matches(rule, trigger, event) is expected, (rule, trigger_data, event_data)
    return expected


# The issue's examples: (rule, trigger data, event data, what CEL says).
ISSUE_EXAMPLES = [
    # I2: the comprehension's own `event` shadows the trigger inside the macro
    ("async.data.l.exists(event, event == 1)", {}, {"l": [1]}, True),
    ("async.data.l.exists(async, async == 1)", {}, {"l": [1]}, True),
    ("async.data.l.all(event, event.x == async.data.v)", {"x": 2}, {"l": [{"x": 1}], "v": 1},
     True),
    ("async.data.l.exists(event, .event.data.x == event)", {"x": 3}, {"l": [3]}, True),
    # I3: a missing trigger field is an error wherever it lands
    ("async.data.l.all(x, x != event.data.missing)", {}, {"l": [1]}, False),
    ("(async.data.b != event.data.missing && true) == true", {}, {"b": 1}, False),
    ("!(async.data.b == event.data.missing)", {}, {"b": 1}, False),
    ("(async.data.b == event.data.missing) == false", {}, {"b": 1}, False),
    ("async.data.l.map(x, x + event.data.missing).size() == 1", {}, {"l": [1]}, False),
    ("async.data.l.exists(x, x == 1 || x == event.data.missing)", {}, {"l": [1]}, True),
    # I3 past the DNF cap (2**6 clauses > 16): the whole rule is evaluated at once
    (" && ".join(f"(async.data.a{i} == 1 || (async.data.b{i} != event.data.missing && true)"
                 " == true)" for i in range(6)), {}, {f"b{i}": 2 for i in range(6)}, False),
    # I4: a trigger value that makes the residual ill-typed is an evaluation error
    ("async.data.tag in event.data.tags || async.data.force", {"tags": False},
     {"tag": "a", "force": True}, True),
    ("event.data.tags.exists(t, t == async.data.x) || async.data.force", {"tags": True},
     {"force": True}, True),
    ("async.data.l[event.data.i] == 1 || async.data.force", {"i": True},
     {"l": [1], "force": True}, True),
    ("async.data.l[event.data.i] == 1 || async.data.force", {"i": True},
     {"l": [1], "force": False}, False),
    ("event.data.b.all(x, x) || async.data.force", {"b": 1}, {"force": True}, True),
    ("!(event.data.n) || async.data.force", {"n": 5}, {"force": True}, True),
    ("-event.data.flag < 0 || async.data.force", {"flag": True}, {"force": True}, True),
]


@pytest.mark.parametrize(("rule", "trigger", "event", "expected"), ISSUE_EXAMPLES)
def test_the_index_says_what_cel_says(rule: str, trigger: dict[str, Any],
                                      event: dict[str, Any], expected: bool) -> None:
    assert agree(rule, trigger, event) is expected


@pytest.mark.parametrize("value", [False, True, 0, 1.5, "s", None, [], {}, [True]])
@pytest.mark.parametrize("rule", [
    "async.data.x in event.data.v || async.data.y == 1",
    "event.data.v.exists(t, t == async.data.x) || async.data.y == 1",
    "event.data.v.map(t, t).size() > 0 || async.data.y == 1",
    "async.data.l[event.data.v] == 1 || async.data.y == 1",
    "event.data.v[async.data.x] == 1 || async.data.y == 1",
    "async.data.x < event.data.v || async.data.y == 1",
    "async.data.x + event.data.v == 1 || async.data.y == 1",
    "!event.data.v || async.data.y == 1",
    "(event.data.v ? 1 : 2) == async.data.x || async.data.y == 1",
    "async.data.x.startsWith(event.data.v) || async.data.y == 1",
    "event.data.v.x == async.data.x || async.data.y == 1",
])
def test_no_trigger_value_turns_a_valid_rule_into_a_compile_error(rule: str, value: Any) -> None:
    """Every JSON type in every operand position: add() stores or reports never_fires, and
    agrees with brute force on events that do and do not satisfy the other branch."""
    for event in ({"x": "a", "y": 1, "l": [1]}, {"x": 0, "y": 2, "l": [1, 2]}):
        agree(rule, {"v": value}, event)


def test_explain_shows_an_error_valued_trigger_value_as_an_error() -> None:
    out = matcher.explain("async.data.l.all(x, x != event.data.missing)", {"data": {}})
    assert out["residual"] == "async.data.l.all(x, x != <error: no such key: 'missing'>)"
    assert not out["never_fires"]  # an empty list still makes all() true


def test_explain_shows_a_substituted_value_that_makes_the_residual_an_error() -> None:
    out = matcher.explain("async.data.tag in event.data.tags || async.data.force",
                          {"data": {"tags": False}})
    assert out["residual"] == "async.data.tag in false || async.data.force"
    assert [c["access"] for c in out["clauses"]] == ["scan (always evaluated)"] * 2


def test_comprehension_scope_in_paths_and_codegen() -> None:
    prog = matcher.compile("[{'protobuf': {'Timestamp': 1}}].map(google, "
                           "google.protobuf.Timestamp)")
    assert prog.evaluate({}) == [1]  # issue 8 F1: the variable, not the type
    assert matcher.compile("async.data.l.exists(event, event == 1)").paths == (
        ("async", "data", "l"),)
