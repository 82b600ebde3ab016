"""Tests for Limits: every bound is a CompileError or EvalError naming it, never a crash."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

import matcher
from matcher import CompileError, EvalError, Limits

DEFAULTS = Limits()


def limit_error(expression: str, limits: Limits = DEFAULTS) -> CompileError:
    with pytest.raises(CompileError) as info:
        matcher.compile(expression, limits=limits)
    assert info.value.kind == "Limit"
    return info.value


def test_defaults_are_the_documented_ones() -> None:
    assert DEFAULTS == Limits(max_length=16 * 1024, max_depth=64, max_nodes=4096,
                              max_cost=50_000, cost_input_size=100, max_regex_length=1024)
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULTS.max_depth = 1  # type: ignore[misc]


# ------------------------------------------------------------------ length

def test_expression_at_the_length_limit_compiles() -> None:
    expression = "event.data.x == '" + "a" * (DEFAULTS.max_length - 18) + "'"
    assert len(expression) == DEFAULTS.max_length
    matcher.compile(expression)


@pytest.mark.parametrize("expression", [
    "a" * (16 * 1024 + 1),
    "event.data.x == '" + "a" * 20_000 + "'",
    " || ".join(["true"] * 5000),
])
def test_expression_over_the_length_limit(expression: str) -> None:
    err = limit_error(expression)
    assert err.message == (f"expression is {len(expression)} characters long; "
                           f"the limit is {16 * 1024}")
    assert (err.line, err.column) == (1, 16 * 1024 + 1)


def test_length_counts_code_points_and_is_configurable() -> None:
    assert "the limit is 10" in limit_error("'éééééééé'+'", Limits(max_length=10)).message
    matcher.compile("'ééééééé'", limits=Limits(max_length=10))  # 10 code points, 17 bytes


def test_length_limit_applies_to_known_shapes_too() -> None:
    matcher.compile("event.x == 'short'")
    err = limit_error("event.x == '" + "b" * 100 + "'", Limits(max_length=50))
    assert "the limit is 50" in err.message


# ------------------------------------------------------------------ depth

NESTED = {
    "not": "!" * 200 + "event.x",
    "negation": "-" * 200 + "event.x",
    "lists": "[" * 200 + "]" * 200,
    "maps": "{'k': " * 200 + "1" + "}" * 200,
    "parenthesized sums": "(1 + " * 200 + "1" + ")" * 200,
    "index": "event.x" + "[0]" * 200,
    "select": "event" + ".f" * 200,
    "calls": "size(" * 200 + "event.x" + ")" * 200,
    "left-assoc sum": "1" + " + 1" * 2000,
    "ternary": "event.x ? 1 : " * 200 + "2",
    "macros": "[1].all(x, " * 100 + "true" + ")" * 100,
}


@pytest.mark.parametrize("expression", NESTED.values(), ids=NESTED.keys())
def test_nesting_beyond_the_limit_is_a_compile_error(expression: str) -> None:
    err = limit_error(expression)
    assert err.message == "expression nesting exceeds the limit of 64"
    assert 1 < err.column <= len(expression)


@pytest.mark.parametrize("depth", [1000, 5000])
def test_very_deep_input_never_raises_recursion_error(depth: int) -> None:
    for expression in ("!" * depth + "true", "[" * depth + "]" * depth,
                       "(1 + " * depth + "1" + ")" * depth, "-" * depth + "event.x"):
        limit_error(expression)


def test_redundant_parentheses_add_no_depth() -> None:
    # Parentheses build no AST node, so they cannot deepen the tree; only what they
    # enclose counts. The parser's stack is a list, so even 5000 of them cannot crash.
    assert matcher.compile("(" * 5000 + "1" + ")" * 5000).evaluate({}) == 1


def test_depth_limit_is_configurable_and_exact() -> None:
    limits = Limits(max_depth=4)  # every node is a level: ! ! . event
    matcher.compile("!!event.x", limits=limits)
    err = limit_error("!!!event.x", limits)
    assert err.message == "expression nesting exceeds the limit of 4"
    assert err.column == 4  # the first node below the allowed depth


def test_nary_logic_counts_once() -> None:
    matcher.compile(" && ".join(["event.x == 1"] * 500))


# ------------------------------------------------------------------ node count

def test_node_count_limit() -> None:
    expression = "[" + ", ".join(["1"] * 5000) + "]"
    err = limit_error(expression)
    assert err.message == "expression has more than 4096 nodes"
    matcher.compile("[" + ", ".join(["1"] * 4000) + "]")


def test_node_count_limit_is_configurable() -> None:
    limits = Limits(max_nodes=5)
    matcher.compile("1 + 2 + 3", limits=limits)
    err = limit_error("1 + 2 + 3 + 4", limits)
    assert err.message == "expression has more than 5 nodes"


# ------------------------------------------------------------------ cost budget

BIG = {"event": {"l": list(range(1000))}, "async": {}}

BUDGET_BUSTERS = [
    "event.l.all(x, event.l.all(y, x + y >= 0))",
    "event.l.exists(x, event.l.exists(y, x + y < 0))",
    "event.l.map(x, event.l.map(y, y)).size() > 0",
    "event.l.filter(x, event.l.exists_one(y, y == x)).size() > 0",
    "event.l.all(x, event.l.all(y, event.l.all(z, true)))",
    "event.l.all(x, x in event.l)",  # `in` scans the list: 1,000 x 1,000 element tests
    "event.l.all(x, event.l == event.l)",  # list equality compares every element
]


@pytest.mark.parametrize("expression", BUDGET_BUSTERS)
def test_budget_stops_work_that_grows_with_the_data(expression: str) -> None:
    prog = matcher.compile(expression)
    with pytest.raises(matcher.EvaluationAborted, match="exceeded its cost budget of 50000 units"):
        prog.evaluate(BIG)
    result = prog.try_evaluate(BIG)
    assert isinstance(result, EvalError) and "budget" in result.message


def test_budget_is_per_evaluation_and_exact() -> None:
    # Each iteration costs 1 + the 2 nodes of `x > 0` (see _cost.iteration_cost).
    prog = matcher.compile("[1, 2, 3].all(x, x > 0)", limits=Limits(max_cost=9))
    assert prog.measure({}) == (True, 9)
    assert prog.evaluate({}) is True  # a fresh budget each time
    short = matcher.compile("[1, 2, 3].all(x, x > 0)", limits=Limits(max_cost=8))
    with pytest.raises(EvalError, match="budget of 8 units"):
        short.evaluate({})


def test_budget_counts_every_macro_together_and_no_operator_absorbs_it() -> None:
    expression = "[1, 2].exists(x, x == 2) && [1, 2].exists(y, y == 2)"
    assert matcher.compile(expression, limits=Limits(max_cost=12)).evaluate({}) is True
    with pytest.raises(matcher.EvaluationAborted, match="budget of 11"):
        matcher.compile(expression, limits=Limits(max_cost=11)).evaluate({})
    # An error value would be absorbed by `|| true`; running out of budget is not.
    for absorbing in (f"({expression}) || true", f"[1].exists(z, {expression}) || true"):
        with pytest.raises(matcher.EvaluationAborted):
            matcher.compile(absorbing, limits=Limits(max_cost=11)).evaluate({})


def test_nested_loops_within_budget_finish() -> None:
    prog = matcher.compile("event.l.all(x, event.l.exists(y, y == x))")
    small = {"event": {"l": list(range(100))}}
    assert prog.evaluate(small) is True


def doubling(levels: int) -> str:
    """issue 9's example: each level doubles a string, `size(a{levels})` at the bottom."""
    text = f"size(a{levels}) > 0"
    for i in range(levels, 0, -1):
        text = f"[a{i - 1} + a{i - 1}].map(a{i}, {text})"
    return f"['ab'].map(a0, {text})"


def test_doubling_strings_stop_within_a_bounded_allocation() -> None:
    import tracemalloc

    expression = doubling(40)
    assert len(expression) < 1000
    prog = matcher.compile(expression)
    tracemalloc.start()
    try:
        result = prog.try_evaluate({})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(result, matcher.EvaluationAborted)
    # 50,000 units buy at most 400,000 characters: a few MB, not the 2 GB it used to take.
    assert peak < 8 * 1024 * 1024, peak


@pytest.mark.parametrize(("expression", "units"), [
    ("event.s + event.s == ''", 1 + 2000 // 8),  # one string of 2,000 characters built
    ("size(event.l + event.l) == 0", 1 + 2000 // 8),  # a list of 2,000 built
    ("0 in event.l", 2 * 1000),  # one scan of 1,000 elements (2 units each)
    ("event.l == event.l", 2 * 1000),  # equal lists: every element pair compared
    ("bytes(event.s) == b''", 1 + 1000 // 8),  # a copy
    ("event.t.contains('z')", 10_000 // 32),  # a search past the first 1,024 characters
    ("event.t.matches('z')", 10_000 // 32),
    ("event.t.matches(event.p)", 10_000 // 32),
])
def test_values_built_and_scanned_are_charged_by_size(expression: str, units: int) -> None:
    data = {"event": {"s": "x" * 1000, "l": [1] * 1000, "t": "x" * 10_000, "p": "z"},
            "async": {}}
    _, spent = matcher.compile(expression).measure(data)
    assert spent == units
    with pytest.raises(matcher.EvaluationAborted):
        matcher.compile(expression, limits=Limits(max_cost=units - 1)).evaluate(data)


def test_literal_sized_work_costs_nothing_at_run_time() -> None:
    # Sizes fixed by the expression are bounded by its length: no budget is even created.
    for expression in ("event.x in [1, 2, 3]", "event.x + 1 > 2", "'a' == event.y",
                       "event.userId == 'u' && event.amount > 100", "event.y.contains('a')",
                       "event.y.matches('^a')"):
        prog = matcher.compile(expression)
        assert "budget = [" not in prog.source, expression
        assert prog.measure({"event": {"x": 1, "y": "a", "userId": "u", "amount": 1}})[1] == 0


# ------------------------------------------------------------------ regex

def test_invalid_constant_regex_is_a_positioned_compile_error() -> None:
    with pytest.raises(CompileError) as info:
        matcher.compile("'a'.matches('[')")
    assert info.value.column == 13 and "invalid regular expression '['" in info.value.message
    # A pattern only known at run time is still an evaluation error.
    result = matcher.compile("'a'.matches(event.p)").try_evaluate({"event": {"p": "["}})
    assert isinstance(result, EvalError) and "invalid regular expression" in result.message


def test_regex_length_limit() -> None:
    with pytest.raises(CompileError, match="regular expression is 1025 characters long"):
        matcher.compile(f"'a'.matches('{'a' * 1025}')")
    result = matcher.compile("'a'.matches(event.p)").try_evaluate({"event": {"p": "a" * 1025}})
    assert isinstance(result, EvalError) and "the limit is 1024" in result.message


def test_invalid_regex_in_a_known_shape_is_still_a_compile_error() -> None:
    matcher.compile("event.s.matches('^a+$')")  # the shape is now cached
    with pytest.raises(CompileError, match="invalid regular expression"):
        matcher.compile("event.s.matches('^a+($')")


# ------------------------------------------------------------------ hostile input

_CEL_PIECES = st.sampled_from(
    list("()[]{}.,:?!-+*/%<>=&|'\"`\\ \n\t0123456789abexuUrRbB_é")
    + ["in", "has(", ".all(", ".exists(x,", ".map(", "event", "async", "true", "null",
       "1u", "0x", "'''", '"""', "//", "\\u", "\\x", "\\U", "&&", "||", "==", "size(",
       "9223372036854775808", "-9223372036854775808", "18446744073709551616u", "1e999"])


def _compile_or_compile_error(text: str, check: bool = True) -> None:
    try:
        matcher.compile(text, check=check)
    except CompileError as err:
        assert err.expression == text and 0 <= err.offset <= len(text)
        assert 1 <= err.line <= text.count("\n") + 1


@given(st.text())
def test_random_text_gives_a_program_or_a_compile_error(text: str) -> None:
    _compile_or_compile_error(text)


@given(st.lists(_CEL_PIECES, max_size=60).map("".join), st.booleans())
def test_random_cel_like_text_gives_a_program_or_a_compile_error(text: str, check: bool) -> None:
    _compile_or_compile_error(text, check)


@given(st.lists(_CEL_PIECES, max_size=40).map("".join))
def test_compiled_random_text_evaluates_without_crashing(text: str) -> None:
    try:
        prog = matcher.compile(text, check=False)
    except CompileError:
        return
    activation = {"event": {"data": {"x": 1}}, "async": {"data": {}}}
    result = prog.try_evaluate(activation)
    if isinstance(result, EvalError):
        with pytest.raises(EvalError):
            prog.evaluate(activation)


@pytest.mark.parametrize("expression", ["null.x", "true.x", "[1].x", "[].x == 1"])
def test_unchecked_selection_on_a_literal_is_an_eval_error(expression: str) -> None:
    result = matcher.compile(expression, check=False).try_evaluate({})
    assert isinstance(result, EvalError)


@pytest.mark.parametrize("text", ["event.x == \x00S", "event.x == '\x00S' && event.y == \x00S"])
def test_text_that_spells_a_shape_marker_is_a_compile_error(text: str) -> None:
    matcher.compile("event.x == 'a'")
    matcher.compile("event.x == 'a' && event.y == 'b'")
    with pytest.raises(CompileError):
        matcher.compile(text)


def test_equal_limits_objects_share_one_shape_table() -> None:
    from matcher._shapes import SHAPES

    before = len(SHAPES._tables)
    for _ in range(50):
        matcher.compile("event.x == 'a'", limits=Limits())
    assert len(SHAPES._tables) <= before + 1
