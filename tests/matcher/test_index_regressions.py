"""Index tests: one explicit regression per failure mode of issue 3 and per matching guard.

Expectations are written out by hand from the CEL specification (not taken from the naive
matcher), so each case documents a rule: errors are no match, ``!`` keeps its polarity,
keys compare with CEL equality, and every guard holds.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import matcher
from matcher import UInt

TRIGGER = {"name": "tasks/created", "id": "trigger-1", "ts": 1_000,
           "data": {"a": "x", "n": 1, "my-key": "k-1", "list": ["x", "y"]}}


def check(idx: Any) -> None:
    getattr(idx, "_check", lambda: None)()


def add(idx: Any, listener_id: str, expression: str, **kwargs: Any) -> Any:
    args: dict[str, Any] = {"event": "cancel", "trigger": TRIGGER, "run_id": f"run-{listener_id}",
                            "env": "prod", "expires_at": None, "run_started_at": None}
    args.update(kwargs)
    res = idx.add(listener_id, expression=expression, **args)
    check(idx)
    return res


def event(data: dict[str, Any] | None = None, *, name: str = "cancel", event_id: str = "evt-1",
          ts: int = 2_000) -> dict[str, Any]:
    return {"name": name, "id": event_id, "ts": ts, "data": {} if data is None else data}


def runs(idx: Any, incoming: dict[str, Any], env: str = "prod") -> list[str]:
    """The run ids matched, sorted; asserts each run is reported once."""
    got = [m.run_id for m in idx.match(incoming, env=env)]
    assert len(got) == len(set(got)), f"a run reported twice: {got}"
    return sorted(got)


def matches_alone(expression: str, data: dict[str, Any]) -> bool:
    """Whether a lone listener with ``expression`` matches an event carrying ``data``."""
    idx = matcher.ListenerIndex()
    res = add(idx, "l", expression)
    hit = runs(idx, event(data)) == ["run-l"]
    if res.stored:
        assert idx.test("l", event(data)) is hit
    else:
        assert not hit
    return hit


NAN = math.nan

# (expression, event data, expected). Grouped by the failure mode they pin down.
CASES = [
    # OR with a branch no index can serve: the other branch must still find the listener.
    ("async.data.a == 'x' || async.data.s.size() > 3", {"a": "x"}, True),
    ("async.data.a == 'x' || async.data.s.size() > 3", {"a": "z", "s": "abcd"}, True),
    ("async.data.a == 'x' || async.data.s.size() > 3", {"s": "abcd"}, True),
    ("async.data.a == 'x' || async.data.s.size() > 3", {"a": "z", "s": "ab"}, False),
    ("async.data.a == 'x' || async.data.s.size() > 3", {"a": "z", "s": 5}, False),
    ("async.data.a == 'x' || async.data.s.contains('q')", {"s": "aqa"}, True),
    ("async.data.a == 'x' || async.data.b != 'y'", {"a": "z", "b": "z"}, True),
    ("async.data.a == 'x' || async.data.b in []", {"a": "x"}, True),
    ("async.data.a == 'x' || async.data.b in []", {"b": "x"}, False),
    # Negated conjunction: !(a && b) is true when either side is false, even if the other
    # errors; it is an error (no match) when one side errors and the other is true.
    ("!(async.data.a == 1 && async.data.b == 2)", {"a": 1, "b": 2}, False),
    ("!(async.data.a == 1 && async.data.b == 2)", {"a": 1, "b": 3}, True),
    ("!(async.data.a == 1 && async.data.b == 2)", {"b": 3}, True),
    ("!(async.data.a == 1 && async.data.b == 2)", {"a": 2}, True),
    ("!(async.data.a == 1 && async.data.b == 2)", {"b": 2}, False),
    ("!(async.data.a == 1 && async.data.b == 2)", {}, False),
    ("!(async.data.a == 1 || async.data.b == 2)", {"a": 2, "b": 3}, True),
    ("!(async.data.a == 1 || async.data.b == 2)", {"a": 2}, False),
    # !(x < 1) is not x >= 1: a string errors (no match); NaN < 1 is false, so !(NaN < 1)
    # is true while NaN >= 1 is false.
    ("!(async.data.x < 1)", {"x": "s"}, False),
    ("!(async.data.x < 1)", {"x": NAN}, True),
    ("async.data.x >= 1", {"x": NAN}, False),
    ("!(async.data.x < 1)", {"x": 1}, True),
    ("!(async.data.x < 1)", {"x": 0.5}, False),
    ("!(async.data.x < 1)", {}, False),
    ("!(async.data.x < 1)", {"x": UInt(7)}, True),
    ("!(async.data.x < 1)", {"x": True}, False),
    # Escaped strings: keys compare after escape decoding.
    ('async.data.a == "a\\"b"', {"a": 'a"b'}, True),
    ("async.data.a == 'a\"b'", {"a": 'a"b'}, True),
    ("async.data.a == '\\u00e9'", {"a": "\u00e9"}, True),
    ('async.data.a == "\\xe9"', {"a": "\u00e9"}, True),
    ('async.data.a == "\\351"', {"a": "\u00e9"}, True),
    ('async.data.a == "\\U000000e9"', {"a": "\u00e9"}, True),
    ("async.data.a in ['\\u00e9']", {"a": "\u00e9"}, True),
    ("async.data.a.startsWith('\\u00e9')", {"a": "\u00e9t\u00e9"}, True),
    ("async.data.a == '\\u00e9'", {"a": "e\u0301"}, False),  # no Unicode normalization
    ('async.data.a == r"a\\n"', {"a": "a\\n"}, True),
    ('async.data.a == r"a\\n"', {"a": "a\n"}, False),
    ('async.data.a == "a\\n"', {"a": "a\n"}, True),
    ("async.data.a == '''x'y'''", {"a": "x'y"}, True),
    # A path with a key that is not an identifier.
    ('async.data["my-key"] == "v"', {"my-key": "v"}, True),
    ("async.data['my-key'] == 'v'", {"my-key": "v"}, True),
    ("async.data.`my-key` == 'v'", {"my-key": "v"}, True),
    ('async.data["my-key"] == "v"', {"my_key": "v"}, False),
    ('async.data["my-key"] == "v"', {"my": {"key": "v"}}, False),
    ('async.data["my-key"] == event.data["my-key"]', {"my-key": "k-1"}, True),
    ('async.data["my-key"] == event.data["my-key"]', {"my-key": "k-2"}, False),
    ('has(async.data.nested) && async.data.nested["my-key"] == 1', {"nested": {"my-key": 1}},
     True),
    # != next to ==: a missing field is an error (no match); another type is unequal.
    ("async.data.a == 'x' && async.data.b != 'y'", {"a": "x", "b": "z"}, True),
    ("async.data.a == 'x' && async.data.b != 'y'", {"a": "x", "b": "y"}, False),
    ("async.data.a == 'x' && async.data.b != 'y'", {"a": "x"}, False),
    ("async.data.a == 'x' && async.data.b != 'y'", {"a": "x", "b": 1}, True),
    ("async.data.a != 'x'", {"a": 1}, True),
    ("async.data.a != 'x'", {}, False),
    # Key equality follows CEL: 1 == 1u == 1.0; true is not 1; "1" is not 1.
    *[(f"async.data.n == {lit}", {"n": value}, True)
      for lit in ("1", "1u", "1.0") for value in (1, 1.0, UInt(1))],
    *[(f"async.data.n in [{lit}]", {"n": value}, True)
      for lit in ("1", "1u", "1.0") for value in (1, 1.0, UInt(1))],
    ("async.data.n == true", {"n": 1}, False),
    ("async.data.n == 1", {"n": True}, False),
    ("async.data.n in [1, 2]", {"n": True}, False),
    ("async.data.n == 1", {"n": "1"}, False),
    ("async.data.n == 0", {"n": -0.0}, True),
    ("async.data.n >= 1", {"n": UInt(1)}, True),
    ("async.data.n > 1", {"n": 1.5}, True),
    ("async.data.n > 1", {"n": "2"}, False),
    ("async.data.n == null", {"n": None}, True),
    ("async.data.n == null", {}, False),
    ("has(async.data.n)", {"n": None}, True),
    ("!has(async.data.n)", {}, True),
    # Interpolated trigger values: match: "data.n" becomes an equality on the trigger's n.
    ("event.data.n == async.data.n", {"n": 1.0}, True),
    ("event.data.n == async.data.n", {"n": 2}, False),
    ("async.data.a in event.data.list", {"a": "y"}, True),
    ("event.data.missing == 'x' || async.data.a == 'y'", {"a": "y"}, True),
]


@pytest.mark.parametrize(("expression", "data", "expected"), CASES,
                         ids=[f"{c[0]} | {c[1]}" for c in CASES])
def test_rule_against_event(expression: str, data: dict[str, Any], expected: bool) -> None:
    assert matches_alone(expression, data) is expected


# NaN equals nothing, itself included (CEL spec, "Equality"). JSON-decoded NaNs (Python's
# json accepts the NaN token) are one shared float object, so a dict keyed by value finds a
# NaN under itself.
NAN_CASES = [
    ("async.data.n == double('NaN')", {"n": math.nan}),
    ("async.data.n in [double('NaN')]", {"n": math.nan}),
]


@pytest.mark.parametrize(("expression", "data"), NAN_CASES)
def test_nan_key_never_matches(expression: str, data: dict[str, Any]) -> None:
    assert not matches_alone(expression, data)


def test_nan_in_trigger_and_event_from_json_do_not_match() -> None:
    idx = matcher.ListenerIndex()
    trigger = dict(TRIGGER, data=matcher.loads_json('{"n": NaN}'))
    add(idx, "l", "event.data.n == async.data.n", trigger=trigger)
    assert runs(idx, event(matcher.loads_json('{"n": NaN}'))) == []


# Beyond 2**53 CEL compares an int with a double after converting the int to double
# (cel-cpp and our compiler agree: 9007199254740993 == 9007199254740992.0 is true), so
# the index must not use exact Python int/float comparison for these keys and bounds.
BIG_CASES = [
    ("async.data.n == 9007199254740993", {"n": 9007199254740992.0}, True),
    ("async.data.n == 9223372036854775807", {"n": 2.0**63}, True),
    ("async.data.n < 9007199254740993", {"n": 9007199254740992.0}, False),
    ("async.data.n > 9007199254740992.0", {"n": 9007199254740993}, False),
]


@pytest.mark.parametrize(("expression", "data", "expected"), BIG_CASES)
def test_int_double_keys_beyond_2_53_follow_the_compiler(
    expression: str, data: dict[str, Any], expected: bool
) -> None:
    program = matcher.compile(expression, variables=("event", "async"))
    assert program.try_evaluate({"event": TRIGGER, "async": event(data)}) is expected
    assert matches_alone(expression, data) is expected


def test_rule_beyond_the_clause_cap_still_matches_exactly() -> None:
    # (a0 || b0) && ... && (a5 || b5) has 64 DNF clauses: evaluated on every event instead.
    wide = " && ".join(f"(async.data.a{i} == 1 || async.data.b{i} == 'x')" for i in range(6))
    idx = matcher.ListenerIndex()
    assert add(idx, "wide", wide).stored
    add(idx, "narrow", "async.data.a0 == 1")
    every = {f"a{i}": 1 for i in range(6)}
    assert runs(idx, event(every)) == ["run-narrow", "run-wide"]
    mixed = {**{f"b{i}": "x" for i in range(6)}, "a0": 1, "b5": 2, "a5": 1.0}
    assert runs(idx, event(mixed)) == ["run-narrow", "run-wide"]
    assert runs(idx, event({**every, "a3": 2})) == ["run-narrow"]
    assert runs(idx, event({f"b{i}": "x" for i in range(5)})) == []


def test_erroring_residual_does_not_affect_healthy_listeners() -> None:
    idx = matcher.ListenerIndex()
    add(idx, "bad-size", "async.data.a == 'x' && async.data.n.size() > 1")
    add(idx, "bad-div", "async.data.a == 'x' && 1 / async.data.z == 1")
    add(idx, "bad-overflow", "async.data.a == 'x' && async.data.n + 9223372036854775807 > 0")
    add(idx, "healthy", "async.data.a == 'x'")
    add(idx, "empty", "")
    add(idx, "scan", "async.data.n + 1 == 6")
    incoming = event({"a": "x", "n": 5, "z": 0})
    assert runs(idx, incoming) == ["run-empty", "run-healthy", "run-scan"]
    assert not idx.test("bad-size", incoming)
    assert not idx.test("bad-div", incoming)
    assert not idx.test("bad-overflow", incoming)


def test_adding_the_same_id_twice_is_a_no_op() -> None:
    idx = matcher.ListenerIndex()
    first = add(idx, "l", "async.data.a == 'x'")
    assert (first.status, first.stored, first.listener_id) == ("stored", True, "l")
    assert isinstance(first.residual, str) and isinstance(first.access, tuple)
    again = add(idx, "l", "async.data.a == 'x'")
    assert (again.status, again.stored) == ("duplicate", False)
    other = add(idx, "l", "async.data.a == 'y'", run_id="run-other")
    assert other.status == "duplicate"
    assert len(idx) == 1
    assert runs(idx, event({"a": "x"})) == ["run-l"]
    assert runs(idx, event({"a": "y"})) == []


@pytest.mark.parametrize("expression", [
    "event.data.a == 'y'",
    "event.data.a == 'y' && async.data.b == 1",
    "event.data.missing == 'x'",
    "event.data.n > 5 && async.data.b == 1",
    "async.data.b in event.data.empty",
])
def test_residual_that_can_never_be_true_is_reported_not_stored(expression: str) -> None:
    idx = matcher.ListenerIndex()
    trigger = dict(TRIGGER, data={"a": "x", "n": 1, "empty": []})
    res = add(idx, "l", expression, trigger=trigger)
    assert res.status == "never_fires" and not res.stored
    assert isinstance(res.reason, str) and res.reason
    assert len(idx) == 0
    assert idx.remove("l") is False
    assert runs(idx, event({"a": "y", "b": 1, "missing": "x"})) == []


def test_residual_that_is_true_matches_every_event_of_the_name() -> None:
    idx = matcher.ListenerIndex()
    assert add(idx, "l", "event.data.a == 'x'").stored
    assert runs(idx, event({})) == ["run-l"]
    assert runs(idx, event({}, name="other")) == []


def test_empty_expression_matches_every_event_of_that_name() -> None:
    idx = matcher.ListenerIndex()
    assert add(idx, "l", "").stored
    assert runs(idx, event({})) == ["run-l"]
    assert runs(idx, event({"anything": [1, {"x": None}]})) == ["run-l"]
    assert runs(idx, event({}, name="cancel2")) == []
    assert runs(idx, event({}), env="dev") == []


def test_bad_expression_raises_and_changes_nothing() -> None:
    idx = matcher.ListenerIndex()
    with pytest.raises(matcher.CompileError) as err:
        add(idx, "l", "async.data.a ==")
    assert err.value.column >= 1
    assert len(idx) == 0
    assert add(idx, "l", "async.data.a == 'x'").stored  # the id was not taken


def test_remove_and_remove_run_are_exact() -> None:
    idx = matcher.ListenerIndex()
    add(idx, "a1", "async.data.a == 'x'", run_id="run-a")
    add(idx, "a2", "async.data.a == 'x' && async.data.b != 1", run_id="run-a")
    add(idx, "b1", "async.data.a in ['x', 'y']", run_id="run-b")
    add(idx, "c1", "", run_id="run-c")
    incoming = event({"a": "x", "b": 2})
    assert runs(idx, incoming) == ["run-a", "run-b", "run-c"]
    assert idx.remove("a1") is True
    check(idx)
    assert idx.remove("a1") is False
    assert idx.remove("never-added") is False
    assert len(idx) == 3
    assert runs(idx, incoming) == ["run-a", "run-b", "run-c"]  # a2 still there
    assert idx.remove_run("run-a") == 1
    check(idx)
    assert idx.remove_run("run-a") == 0
    assert runs(idx, incoming) == ["run-b", "run-c"]
    assert idx.remove_run("run-c") == 1
    assert idx.remove("b1") is True
    check(idx)
    assert len(idx) == 0
    assert runs(idx, incoming) == []
    assert add(idx, "a1", "async.data.a == 'x'", run_id="run-a").stored  # re-add after removal
    assert runs(idx, incoming) == ["run-a"]


def test_one_match_per_run_when_several_listeners_of_the_run_match() -> None:
    idx = matcher.ListenerIndex()
    add(idx, "l1", "async.data.a == 'x'", run_id="run")
    add(idx, "l2", "async.data.a.startsWith('x')", run_id="run")
    add(idx, "l3", "", run_id="run")
    add(idx, "other", "async.data.a == 'x'", run_id="run-2")
    got = idx.match(event({"a": "x"}), env="prod")
    assert sorted(m.run_id for m in got) == ["run", "run-2"]
    assert {m.listener_id for m in got if m.run_id == "run"} <= {"l1", "l2", "l3"}


# (guard arguments of add, incoming event overrides, env of the match, expected)
GUARDS = [
    pytest.param({"expires_at": 1_999}, {}, "prod", False, id="expired-before-event"),
    pytest.param({"expires_at": 2_000}, {}, "prod", True, id="expires-at-event-ts"),
    pytest.param({"expires_at": 2_001}, {}, "prod", True, id="expires-after-event"),
    pytest.param({"run_started_at": 2_001}, {}, "prod", False, id="event-older-than-run"),
    pytest.param({"run_started_at": 2_000}, {}, "prod", True, id="event-at-run-start"),
    pytest.param({"run_started_at": 1_999}, {}, "prod", True, id="event-newer-than-run"),
    pytest.param({}, {"event_id": "trigger-1"}, "prod", False, id="the-trigger-event-itself"),
    pytest.param({}, {}, "dev", False, id="other-env"),
    pytest.param({"env": "dev"}, {}, "dev", True, id="same-other-env"),
    pytest.param({}, {"name": "cancel-other"}, "prod", False, id="other-event-name"),
]


@pytest.mark.parametrize(("guard", "overrides", "env", "expected"), GUARDS)
@pytest.mark.parametrize("expression", ["", "async.data.a == 'x'"])
def test_guard(expression: str, guard: dict[str, Any], overrides: dict[str, Any], env: str,
               expected: bool) -> None:
    idx = matcher.ListenerIndex()
    add(idx, "l", expression, **guard)
    incoming = event({"a": "x"}, **overrides)
    assert runs(idx, incoming, env=env) == (["run-l"] if expected else [])
    if overrides.get("name") is None:
        assert idx.test("l", incoming) is (expected or env != guard.get("env", "prod"))


def test_sweep_expired_removes_exactly_the_expired() -> None:
    idx = matcher.ListenerIndex()
    add(idx, "old", "", expires_at=1_000)
    add(idx, "now", "", expires_at=2_000)
    add(idx, "later", "", expires_at=3_000_000_000)
    add(idx, "never", "")
    assert sorted(idx.sweep_expired(2_000)) == ["old"]
    check(idx)
    assert sorted(idx.sweep_expired(2_001)) == ["now"]
    assert idx.sweep_expired(2_001) == []
    check(idx)
    assert len(idx) == 2
    assert runs(idx, event({}, ts=2_500)) == ["run-later", "run-never"]
    assert idx.remove("old") is False


def test_explain_pairs_each_clause_with_its_own_filing() -> None:
    """A clause that can never hold is not filed; explain must not shift the others."""
    idx = matcher.ListenerIndex()
    add(idx, "l", "async.data.a == double('NaN') || async.data.b == 'x'")
    clauses = idx.explain("l")["clauses"]
    assert [c["clause"] for c in clauses] == ["async.data.a == double(\"NaN\")",
                                              "async.data.b == \"x\""]
    assert clauses[0]["access"].startswith("not filed")
    assert clauses[1]["access"] == 'hash async.data.b == "x"'


def test_explain_shows_the_whole_clause_verified_when_a_key_is_inexact() -> None:
    idx = matcher.ListenerIndex()
    add(idx, "l", "async.data.a == 9007199254740993")
    (clause,) = idx.explain("l")["clauses"]
    assert clause["access"] == "hash async.data.a == 9007199254740993"
    assert clause["verify"] == "async.data.a == 9007199254740993"


# ------------------------------------------------------------------ listener ids

def test_service_style_ids_are_kept_as_numbers_and_behave_like_any_other_id() -> None:
    """``f"{run_id}/{n}"`` ids are stored as n (issue 12 memory); every id operation
    must still see exactly the ids that were added, whichever form they have."""
    from matcher._listener import derived_key

    idx = matcher.ListenerIndex()
    rule = "async.data.a == event.data.a"
    add(idx, "run-1/0", rule, run_id="run-1", expires_at=5_000)
    add(idx, "run-1/1", rule, run_id="run-1")
    add(idx, "run-1/01", rule, run_id="run-1")  # not canonical: kept as written
    add(idx, "run-1/257", rule, run_id="run-1")  # past the shared small ints
    add(idx, "other", rule, run_id="run-1")
    # Someone else's run may use an id that looks like run-2's: it is still that id.
    add(idx, "run-2/0", rule, run_id="run-3")
    assert add(idx, "run-2/0", rule, run_id="run-2").status == "duplicate"
    assert add(idx, "run-1/0", rule, run_id="run-9").status == "duplicate"
    assert [type(idx._find(i).key) for i in ("run-1/0", "run-1/01", "run-1/257", "run-2/0")] \
        == [int, str, str, str]
    assert derived_key("run-1/256", "run-1") == 256 and derived_key("run-1/-1", "run-1") is None
    assert derived_key("run-1/٣", "run-1") is None  # a non-ASCII digit is not canonical

    ids = ["run-1/0", "run-1/1", "run-1/01", "run-1/257", "other", "run-2/0"]
    assert len(idx) == 6 and sorted(idx) == sorted(ids) and all(i in idx for i in ids)
    assert "run-1/2" not in idx and "run-1" not in idx and "/0" not in idx
    assert idx.listeners_of_run("run-1") == ids[:5]
    assert sorted((m.listener_id, m.run_id) for m in idx.match(event({"a": "x"}), "prod")) == [
        ("run-1/0", "run-1"), ("run-2/0", "run-3")]  # first listener of each run wins
    assert idx.explain("run-1/0")["listener_id"] == "run-1/0"
    assert idx.sweep_expired(6_000) == ["run-1/0"]
    assert "run-1/0" not in idx and add(idx, "run-1/0", rule, run_id="run-1").stored
    assert idx.remove("run-1/1") and not idx.remove("run-1/1") and not idx.remove("run-9/0")
    assert idx.remove_run("run-1") == 4 and len(idx) == 1 and list(idx) == ["run-2/0"]
    check(idx)
