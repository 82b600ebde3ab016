"""Rules that can never fire do not validate silently (issue 8), and the hints authors need.

``compile_rule`` refuses a rule whose result can never be a bool, an invalid constant
regex is a positioned CompileError, comparisons that only make sense for another type are
warnings naming both types, and messages suggest what was probably meant.
"""

from __future__ import annotations

import pytest

import matcher
from matcher import CompileError


def rule_error(expression: str, variables: tuple[str, ...] = ("event", "async")) -> CompileError:
    with pytest.raises(CompileError) as info:
        matcher.compile_rule(expression, variables)
    return info.value


@pytest.mark.parametrize(("expression", "kind", "column"), [
    ("async.data.count + 1", "int", 18),
    ("'a' + async.data.s", "string", 5),
    ("async.data.a + async.data.b", "another type that is not a bool", 14),
    ("size(async.data.l)", "int", 1),
    ("async.data.l.map(x, x)", "list", 14),
    ("{'a': async.data.a}", "map", 1),
    ("async.data.a ? 1 : 'x'", "int or string", 14),
    ("-async.data.n", "", 1),
    ("timestamp(async.data.t)", "google.protobuf.Timestamp", 1),
])
def test_a_rule_that_can_never_be_a_bool_is_an_error(expression: str, kind: str,
                                                     column: int) -> None:
    err = rule_error(expression)
    assert err.message.startswith("a rule must be a bool expression, but this one is ")
    assert kind in err.message and err.column == column
    matcher.compile(expression)  # as a plain CEL expression it is fine


@pytest.mark.parametrize("expression", [
    "(async.data.a + async.data.b) < true || true", "-(async.data.c ? 'a' : true) == 1 || true",
    "(async.data.c ? 1 : 'a') + 1.0 > 0.0 || true", "(async.data.a + async.data.b).x || true",
])
def test_the_checker_is_no_stricter_than_cel_go_about_sets_of_types(expression: str) -> None:
    # Each sub-expression may be several types, which cel-go's checker calls dyn: valid CEL
    # that evaluates to an error (absorbed here by `|| true`), so never a compile error.
    assert matcher.compile_rule(expression).evaluate({"async": {"data": {"a": 1, "b": 2}}})


@pytest.mark.parametrize("expression", [
    "async.data.flag", "async.data.a == 1", "async.data.a ? true : async.data.b",
    "dyn(async.data.x)", "async.data.l.exists(x, x > 1)", "bool(async.data.s)",
    "async.data.m['k']", "async.data.l[0]",
])
def test_a_rule_that_may_be_a_bool_compiles(expression: str) -> None:
    assert matcher.compile_rule(expression).expression == expression


def test_a_rule_that_can_never_be_a_bool_is_refused_by_the_index_too() -> None:
    idx = matcher.ListenerIndex()
    with pytest.raises(CompileError, match="must be a bool expression"):
        idx.add("l", event="e", expression="async.data.count + 1", trigger={}, run_id="r")
    with pytest.raises(CompileError, match="must be a bool expression"):
        matcher.explain("async.data.count + 1")


def test_invalid_constant_regex_is_a_positioned_error() -> None:
    err = rule_error('async.data.email.matches("([a-z")')
    assert err.column == 26 and err.message.startswith("invalid regular expression '([a-z'")
    err = rule_error('matches(async.data.email, "a)")')
    assert err.column == 27


@pytest.mark.parametrize(("expression", "types"), [
    ('async.data.amount > "100"', "a string"),
    ('"1.5" <= async.data.price', "a string"),
    ("async.data.l.exists(i, i.qty >= '2')", "a string"),
])
def test_ordering_a_field_against_a_numeric_string_is_a_warning(expression: str,
                                                                 types: str) -> None:
    (warning,) = matcher.compile_rule(expression).warnings
    assert f"with {types}" in warning and "an int or a double" in warning
    assert "did you mean" in warning


def test_one_field_compared_with_two_types_is_a_warning_naming_both() -> None:
    (warning,) = matcher.compile_rule(
        "async.data.id == 1 || async.data.id == 'abc'").warnings
    assert warning.startswith("async.data.id is compared with a number (1) and with a "
                              'string ("abc")')


@pytest.mark.parametrize("expression", [
    "async.data.amount > 100", "async.data.name > 'm'", "async.data.id == 'a' || "
    "async.data.id == null", "async.data.n == 1 || async.data.n == 2.5 || async.data.n == 3u",
    "async.data.a == 1 && async.data.b == 'x'", "async.data.code == '100'",
])
def test_no_warning_for_ordinary_comparisons(expression: str) -> None:
    assert matcher.compile_rule(expression).warnings == ()


@pytest.mark.parametrize(("expression", "hint"), [
    ("async.data.s.startWith('a')", "did you mean startsWith?"),
    ("async.data.s.endswith('a')", "did you mean endsWith?"),
    ("async.data.l.exist(x, x)", "did you mean exists?"),
    ("asnyc.data.s == 'a'", "did you mean async?"),
    ("[1].exists(item, itme == 1)", "did you mean item?"),
    ("async.data.a = 1", "did you mean '=='?"),
    ("async.data.a & async.data.b", "did you mean '&&'?"),
    ("async.data.a | async.data.b", "did you mean '||'?"),
    ("async.data.s == 'abc", "unterminated string literal: the closing ' is missing"),
    ('async.data.s == "abc', 'unterminated string literal: the closing " is missing'),
    ("async.data.s == '''abc", "unterminated string literal: the closing ''' is missing"),
])
def test_messages_suggest_what_was_probably_meant(expression: str, hint: str) -> None:
    assert hint in rule_error(expression).message


def test_unterminated_string_points_at_its_opening_quote() -> None:
    assert rule_error("async.data.s == '''abc").column == 17


def test_no_hint_when_nothing_is_close() -> None:
    assert "did you mean" not in rule_error("async.data.s.frobnicate()").message


# ------------------------------------------------------------------ explain


def test_explain_renders_a_negation_as_written() -> None:
    out = matcher.explain("!(async.data.a == 1)")
    (clause,) = out["clauses"]
    assert clause["clause"] == clause["verify"] == "!(async.data.a == 1)"
    assert out["residual"] == "!(async.data.a == 1)"


def test_explain_keeps_a_comparison_with_false_when_it_is_not_a_negation() -> None:
    # async.data.b == false is true only for the bool false; !async.data.b errors on 0.
    out = matcher.explain("async.data.b == false")
    assert out["clauses"][0]["clause"] == "async.data.b == false"


def test_explain_without_a_trigger_says_what_the_plan_depends_on() -> None:
    out = matcher.explain("async.data.tag in event.data.tags || async.data.force")
    (dependence,) = out["depends_on"]
    assert dependence["value"] == "event.data.tags"
    plans = {tuple(p["when"]): p["access"] for p in dependence["plans"]}
    assert plans[("list",)][0] == "hash async.data.tag in event.data.tags"
    assert plans[("missing",)] == ["scan (always evaluated)"]  # only `force` is left


def test_explain_without_a_trigger_lists_only_values_that_change_the_plan() -> None:
    out = matcher.explain("event.data.id == async.data.id && event.data.note == 'x'")
    assert [d["value"] for d in out["depends_on"]] == ["event.data.id", "event.data.note == \"x\""]
    assert matcher.explain("async.data.a == 1")["depends_on"] == []
