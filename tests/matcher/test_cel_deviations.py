"""CEL deviations an outside differential found (issue 8 F1-F6, P1-P5, raw CR/CRLF).

Each case is the issue's own example, with what the spec and cel-go say. Where the spec is
silent and engines differ, the choice is written next to the case and in the README's
"Semantics" section.
"""

from __future__ import annotations

from typing import Any

import pytest

import matcher
from matcher import CompileError, Duration, EvalError

ACTIVATION = {"event": {"data": {"x": 1}}, "async": {"data": {"l": [1]}}}


def value(expression: str, activation: dict[str, Any] | None = None) -> Any:
    return matcher.compile(expression).evaluate(ACTIVATION if activation is None else activation)


def error(expression: str) -> str:
    result = matcher.compile(expression).try_evaluate(ACTIVATION)
    assert isinstance(result, EvalError), result
    return result.message


def compile_error(expression: str) -> CompileError:
    with pytest.raises(CompileError) as info:
        matcher.compile(expression)
    return info.value


# F1: a comprehension variable is looked up before a type name that starts with it.
@pytest.mark.parametrize(("expression", "expected"), [
    ("[{'protobuf': {'Timestamp': 1}}].map(google, google.protobuf.Timestamp)", [1]),
    ("[{'protobuf': {'Duration': 2}}].exists(google, google.protobuf.Duration == 2)", True),
    ("google.protobuf.Timestamp == type(timestamp(0))", True),  # outside: still the type
])
def test_comprehension_variable_shadows_a_type_name(expression: str, expected: Any) -> None:
    assert value(expression) == expected


# F2: a leading dot resolves in the root scope, past comprehension variables.
def test_leading_dot_names_skip_comprehension_scopes() -> None:
    assert value("[1].exists(event, .event == 1)") is False  # the root event is a map
    assert value("[1].exists(event, event == 1)") is True
    assert value("[2].exists(event, .event.data.x + 1 == event)") is True
    err = compile_error("[1].map(x, .x)")
    assert "undeclared reference to 'x'" in err.message and err.column == 12
    assert value(".event.data.x") == 1


# F3: durations are int64 nanoseconds (the spec; Go's time.ParseDuration), checked where
# they are made.
@pytest.mark.parametrize("text", ["9223372036854775808ns", "10000000000s", "2562048h",
                                  "-9223372036854775809ns"])
def test_durations_beyond_int64_nanoseconds_are_refused_where_made(text: str) -> None:
    assert error(f'duration("{text}")') == "duration out of range"


def test_duration_at_the_int64_edge_is_a_value() -> None:
    assert value('duration("9223372036854775807ns") + duration("0s")') == Duration(2**63 - 1)
    assert value('duration("-9223372036854775808ns")') == Duration(-(2**63))


# F5: fixed offsets of 24 hours or more are computed, as cel-go and CEL C++ do.
@pytest.mark.parametrize(("zone", "hours"), [("+24:00", 0), ("24:00", 0), ("+25:00", 1),
                                             ("-25:30", 22), ("+99:59", 3)])
def test_fixed_offsets_of_a_day_or_more(zone: str, hours: int) -> None:
    assert value(f'timestamp(0).getHours("{zone}")') == hours


# F6: true and 1 are two distinct map keys.
def test_map_with_bool_and_int_keys_has_two_entries() -> None:
    assert value("size({true: 1, 1: 2})") == 2
    assert value("{true: 'a', 1: 'b'}[true] == 'a' && {true: 'a', 1: 'b'}[1] == 'b'") is True
    assert value("{true: 'a', 1: 'b'}.map(k, k) == [true, 1]") is True
    assert value("1 in {true: 'a'} || 1.0 in {true: 'a'}") is False
    assert error("{true: 1, true: 2}") == "repeated key: true"


# P1: keywords end at an identifier boundary.
@pytest.mark.parametrize("expression", ["1 inasync.data.l", "false int", "1 ina", "x innot y"])
def test_identifier_starting_with_in_is_not_the_in_keyword(expression: str) -> None:
    assert "mismatched input" in compile_error(expression).message


@pytest.mark.parametrize("expression", ["1 in async.data.l", "1 in[1]", "(1)in [1]", "1in [1]"])
def test_in_keyword_still_parses_next_to_punctuation(expression: str) -> None:
    assert value(expression) is True


# P2: the bytes prefix comes before the raw one.
@pytest.mark.parametrize("expression", ["rb'a'", "Rb'a'", "rB'a'", "RB'a'"])
def test_raw_prefix_before_bytes_prefix_is_refused(expression: str) -> None:
    assert compile_error(expression).column == 3


@pytest.mark.parametrize("expression", ["br'\\\\a'", "bR'\\\\a'", "Br'\\\\a'", "BR'\\\\a'"])
def test_bytes_prefix_before_raw_prefix_is_raw_bytes(expression: str) -> None:
    assert value(expression) == b"\\\\a"


# P3: cel-spec's grammar ("[" [ExprList] [","] "]") and cel-go's (listInit? ','?) allow a
# lone comma in an empty list or map.
@pytest.mark.parametrize(("expression", "expected"), [
    ("[,]", []), ("{,}", {}), ("[1,]", [1]), ("{'a': 1,}", {"a": 1}), ("size([,])", 0),
])
def test_trailing_comma_and_lone_comma(expression: str, expected: Any) -> None:
    assert value(expression) == expected


@pytest.mark.parametrize("expression", ["[,,]", "[1,,]", "f(1,)", "size(,)", "{,,}"])
def test_other_stray_commas_are_still_syntax_errors(expression: str) -> None:
    assert compile_error(expression).kind == "Syntax error"


# P4: huge integer literals are a positioned CompileError, not Python's ValueError.
@pytest.mark.parametrize(("expression", "column"), [
    ("1" * 5000, 1), ("0x" + "f" * 4000, 1), ("x == " + "9" * 4400 + "u", 6),
    ("-" + "1" * 5000, 2),
])
def test_integer_literal_with_thousands_of_digits(expression: str, column: int) -> None:
    err = compile_error(expression)
    assert "does not fit in" in err.message and err.column == column


def test_leading_zeros_do_not_count_as_digits() -> None:
    assert value("0" * 5000 + "7") == 7


# P5: a lone surrogate in a literal is a positioned CompileError.
@pytest.mark.parametrize(("expression", "column"), [("b'a\ud800'", 4), ("'\udfff'", 2),
                                                    ("x == b'''\ud800'''", 10)])
def test_lone_surrogate_in_a_literal(expression: str, column: int) -> None:
    err = compile_error(expression)
    assert "lone surrogate" in err.message and err.column == column


# Raw CR and CRLF in a triple-quoted literal become LF, as cel-go (parser/unescape.go
# normalizes every literal) and CEL C++ do; cel-spec issue 490 leaves it open.
@pytest.mark.parametrize("expression", ["'''a\r\nb'''", "'''a\rb'''", "r'''a\r\nb'''",
                                        '"""a\r\nb"""'])
def test_raw_carriage_returns_in_triple_quoted_strings_are_newlines(expression: str) -> None:
    assert value(expression) == "a\nb"


def test_raw_carriage_returns_in_triple_quoted_bytes_are_newlines() -> None:
    assert value("b'''a\r\nb\rc'''") == b"a\nb\nc"
    assert value("'''a\\r\\nb'''") == "a\r\nb"  # escapes are still what they say


def test_escape_error_after_a_crlf_points_at_the_backslash() -> None:
    err = compile_error("'''a\r\n\\q'''")
    assert (err.line, err.column) == (2, 1) and "invalid escape sequence" in err.message
