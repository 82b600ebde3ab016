"""Tests for the public surface: __all__, Program, compile(check=False) and the shape cache."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import matcher
from matcher import CompileError, EvalError, Limits, UInt

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


# ------------------------------------------------------------------ __all__

def test_all_is_sorted_and_unique() -> None:
    assert matcher.__all__ == sorted(set(matcher.__all__))


@pytest.mark.parametrize("name", matcher.__all__)
def test_every_exported_name_exists_and_is_public(name: str) -> None:
    obj = getattr(matcher, name)
    assert not name.startswith("_")
    assert getattr(obj, "__doc__", None), f"matcher.{name} has no docstring"


def test_the_contracted_names_are_exported() -> None:
    contracted = {"compile", "Program", "CompileError", "EvalError", "MatcherError",
                  "cel_type_name", "loads_json", "UInt", "Timestamp", "Duration", "CelType",
                  "ListenerIndex", "AddResult", "Match", "cancel_expression", "Limits"}
    assert contracted <= set(matcher.__all__)


def test_error_hierarchy() -> None:
    assert issubclass(CompileError, matcher.MatcherError)
    assert issubclass(EvalError, matcher.MatcherError)
    assert not issubclass(CompileError, EvalError)


# ------------------------------------------------------------------ Program

def test_program_attributes() -> None:
    prog = matcher.compile("async.data.amount > 100 && event.data['user-id'] == 'u1'")
    assert prog.expression == "async.data.amount > 100 && event.data['user-id'] == 'u1'"
    assert prog.paths == (("async", "data", "amount"), ("event", "data", "user-id"))
    assert "def " in prog.source and "'u1'" not in prog.source  # literals are parameters
    assert prog.ast is prog.ast
    assert repr(prog) == f"Program({prog.expression!r})"


def test_evaluate_returns_cel_values() -> None:
    prog = matcher.compile("async.data.amount > 100")
    assert prog.evaluate({"async": {"data": {"amount": 150}}}) is True
    assert prog.evaluate({"async": {"data": {"amount": 50}}}) is False
    assert matcher.compile("[1, 'a', 2u]").evaluate({}) == [1, "a", UInt(2)]


def test_evaluate_raises_and_try_evaluate_returns_the_eval_error() -> None:
    prog = matcher.compile("async.data.amount > 100")
    with pytest.raises(EvalError, match="no such key: 'amount'"):
        prog.evaluate({"async": {"data": {}}})
    result = prog.try_evaluate({"async": {"data": {}}})
    assert isinstance(result, EvalError) and result.message == "no such key: 'amount'"
    assert prog.try_evaluate({"async": {"data": {"amount": 101}}}) is True


@pytest.mark.parametrize(("expression", "message"), [
    ("1 / 0", "divide by zero"),
    ("9223372036854775807 + 1", "int64 overflow"),
    ("async.x < 'a'", "no such overload"),
])
def test_eval_errors_are_raised_as_eval_error(expression: str, message: str) -> None:
    prog = matcher.compile(expression)
    with pytest.raises(EvalError, match=message):
        prog.evaluate({"async": {"x": 1}})


def test_errors_are_absorbed_by_logic_and_reported_at_the_top_only() -> None:
    prog = matcher.compile("async.missing == 'x' || true")
    assert prog.evaluate({"async": {}}) is True


@pytest.mark.parametrize("variables", [("event",), ["event"], frozenset({"event"}),
                                       (v for v in ("event",))])
def test_variables_accepts_any_iterable_of_names(variables: object) -> None:
    prog = matcher.compile("event.x", variables=variables)  # type: ignore[arg-type]
    assert prog.evaluate({"event": {"x": 1}}) == 1


# ------------------------------------------------------------------ check=False

@pytest.mark.parametrize(("expression", "message"), [
    ("user.id == 1", "user"),
    ("'a' + 1", "no such overload"),
    ("!1", "no such overload"),
    ("foo(1)", "foo"),
])
def test_unchecked_compile_defers_check_errors_to_evaluation(expression: str,
                                                             message: str) -> None:
    with pytest.raises(CompileError):
        matcher.compile(expression)
    result = matcher.compile(expression, check=False).try_evaluate({"event": {}, "async": {}})
    assert isinstance(result, EvalError) and message in result.message


def test_unchecked_compile_still_reports_syntax_errors() -> None:
    with pytest.raises(CompileError) as info:
        matcher.compile("event.x ==", check=False)
    assert info.value.kind == "Syntax error" and info.value.column == 11


# ------------------------------------------------------------------ the shape cache

VARIANTS = [
    # first, second, a value of `a` that only the second matches
    ("a == 'x'", "a == 'y'", "y"),
    ("a == 'x'", "a == '\\n\\t\\u00e9'", "\n\té"),
    ("a == 'x'", "a == r'\\n'", "\\n"),
    ("a == 'x'", "a == '''multi\nline'''", "multi\nline"),
    ("a == 1", "a == 2", 2),
    ("a == 1", "a == 0x10", 16),
    ("a == 1", "a == 9223372036854775807", 2**63 - 1),
    ("a == -1", "a == -2", -2),
    ("a == -1", "a == -9223372036854775808", -(2**63)),
    ("a == 1.5", "a == 2.5", 2.5),
    ("a == 1.5", "a == .25", 0.25),
    ("a == 1.5", "a == 1e3", 1000.0),
    ("a == 1u", "a == 2u", UInt(2)),
    ("a == 1u", "a == 18446744073709551615u", UInt(2**64 - 1)),
    ("a == b'x'", "a == b'\\xff'", b"\xff"),
    ("a in [1, 2]", "a in [3, 4]", 4),
    ("a['k'] == 1", "a['j'] == 1", {"j": 1}),  # paths differ: (a, k) vs (a, j)
    ("a.startsWith('x')", "a.startsWith('y')", "yes"),
    ("a.matches('^x')", "a.matches('^y+$')", "yyy"),
    ("[1, 2].exists(v, v == a)", "[3, 4].exists(v, v == a)", 3),
]


@pytest.mark.parametrize(("first", "second", "value"), VARIANTS)
def test_literal_variant_of_a_compiled_expression(first: str, second: str,
                                                  value: object) -> None:
    p1 = matcher.compile(first, variables=("a",))
    p2 = matcher.compile(second, variables=("a",))
    assert p2.expression == second
    assert p1.source == p2.source  # one generated function serves both
    assert p2.evaluate({"a": value}) is True
    assert p1.try_evaluate({"a": value}) is not True
    # the variant is a full Program: its AST and paths are its own, as an uncached
    # (unchecked) compile of the same text shows
    fresh = matcher.compile(second, variables=("a",), check=False)
    assert fresh.evaluate({"a": value}) is True
    assert p2.paths == fresh.paths and p2.ast == fresh.ast


def test_sign_of_a_literal_does_not_change_the_generated_code() -> None:
    positive = matcher.compile("event.n == 5")
    negative = matcher.compile("event.n == -5")
    assert positive.source == negative.source
    assert negative.evaluate({"event": {"n": -5}}) is True


BAD_VARIANTS = [
    # a good first expression, then a variant whose literal is invalid; line, column
    ("a == 1", "a == 9223372036854775808", 1, 6, "does not fit in int64"),
    ("a == -1", "a == -9223372036854775809", 1, 6, "does not fit in int64"),
    ("a == 1u", "a == 18446744073709551616u", 1, 6, "does not fit in uint64"),
    ("a == 'x'", "a == 'b\\q'", 1, 8, "invalid escape sequence \\q"),
    ("a == 'x'", "a == '\\ud800'", 1, 7, "invalid unicode code point"),
    ("a == b'x'", "a == b'\\xZZ'", 1, 8, "invalid escape sequence \\x"),
    ("a == 'x' &&\n a == 'y'", "a == 'x' &&\n a == '\\z'", 2, 8, "invalid escape sequence"),
]


@pytest.mark.parametrize(("good", "bad", "line", "column", "fragment"), BAD_VARIANTS)
def test_invalid_literal_in_a_known_shape_is_still_a_compile_error(
    good: str, bad: str, line: int, column: int, fragment: str
) -> None:
    matcher.compile(good, variables=("a",))
    matcher.compile(good, variables=("a",))  # the shape is now certainly cached
    with pytest.raises(CompileError) as info:
        matcher.compile(bad, variables=("a",))
    err = info.value
    assert (err.line, err.column) == (line, column)
    assert fragment in err.message and err.expression == bad


def test_shape_cache_is_keyed_by_the_declared_variables() -> None:
    matcher.compile("b == 'x'", variables=("a", "b"))
    with pytest.raises(CompileError, match="undeclared reference to 'b'"):
        matcher.compile("b == 'y'", variables=("a",))


def test_shape_cache_is_keyed_by_the_limits() -> None:
    matcher.compile("[1, 2, 3].all(v, v > 0)")
    tight = matcher.compile("[4, 5, 6].all(v, v > 0)", limits=Limits(max_cost=6))
    with pytest.raises(EvalError, match="budget of 6 units"):
        tight.evaluate({})
    with pytest.raises(CompileError, match="the limit is 10"):
        matcher.compile("[7, 8, 9].all(v, v > 0)", limits=Limits(max_length=10))


def test_distinct_shapes_do_not_collide() -> None:
    assert matcher.compile("event.x == 'a'").evaluate({"event": {"x": "a"}}) is True
    assert matcher.compile("event.x != 'a'").evaluate({"event": {"x": "a"}}) is False
    assert matcher.compile("event.y == 'a'").try_evaluate({"event": {"x": "a"}}) is not True
    assert matcher.compile("event.x == b'a'").evaluate({"event": {"x": "a"}}) is False
    assert matcher.compile("event.x == 1").evaluate({"event": {"x": 1}}) is True
    assert matcher.compile("event.x == 1u").evaluate({"event": {"x": 1}}) is True
    assert type(matcher.compile("event.x + 1u").evaluate({"event": {"x": UInt(1)}})) is UInt


@given(INT64, INT64)
def test_any_int_literal_variant_compares_exactly(n: int, other: int) -> None:
    prog = matcher.compile(f"event.n == {n}")
    assert prog.evaluate({"event": {"n": n}}) is True
    assert prog.evaluate({"event": {"n": other}}) is (n == other)


@given(st.text(), st.text())
def test_any_string_literal_variant_compares_exactly(s: str, other: str) -> None:
    literal = json.dumps(s, ensure_ascii=False)  # a valid CEL double-quoted string
    prog = matcher.compile(f"event.s == {literal}")
    assert prog.evaluate({"event": {"s": s}}) is True
    assert prog.evaluate({"event": {"s": other}}) is (s == other)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_double_literal_variant_compares_exactly(x: float) -> None:
    prog = matcher.compile(f"event.d == {x!r}")  # repr: 1.5, -0.0, 1e+16, 5e-324
    assert prog.evaluate({"event": {"d": x}}) is True
    assert prog.evaluate({"event": {"d": x + 1.0}}) is (x == x + 1.0)


# ------------------------------------------------------------------ values and rules

@pytest.mark.parametrize(("expression", "name"), [
    ("1", "int"), ("1u", "uint"), ("1.0", "double"), ("true", "bool"), ("'s'", "string"),
    ("b's'", "bytes"), ("null", "null_type"), ("[]", "list"), ("{}", "map"),
    ("timestamp(0)", "google.protobuf.Timestamp"), ("duration('1s')", "google.protobuf.Duration"),
    ("int", "type"),
])
def test_cel_type_name(expression: str, name: str) -> None:
    value = matcher.compile(expression).evaluate({})
    assert matcher.cel_type_name(value) == name
    assert str(matcher.compile(f"type({expression})").evaluate({})) == name


def test_loads_json_keeps_integers_exact() -> None:
    data = matcher.loads_json('{"a": 9007199254740993, "b": 1.0, "c": 18446744073709551615}')
    assert data["a"] == 9007199254740993 and type(data["a"]) is int
    assert type(data["b"]) is float
    assert type(data["c"]) is UInt
    with pytest.raises(ValueError):
        matcher.loads_json("{")


def test_cancel_expression_combines_match_and_if() -> None:
    assert matcher.cancel_expression() == ""
    assert (matcher.cancel_expression(match="data.id", condition="async.data.x > 1")
            == "event.data.id == async.data.id && (async.data.x > 1)")
    with pytest.raises(CompileError):
        matcher.cancel_expression(match="data..id")
