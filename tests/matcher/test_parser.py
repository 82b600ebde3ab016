"""Tests for the parse and check stages: every error shape, and every piece of CEL syntax."""

from __future__ import annotations

import math

import pytest

import matcher
from matcher import CompileError, UInt

ALL = ("event", "async")


def error_of(expression: str, variables: tuple[str, ...] = ALL) -> CompileError:
    with pytest.raises(CompileError) as info:
        matcher.compile(expression, variables=variables)
    return info.value


def value_of(expression: str, activation: dict[str, object] | None = None) -> object:
    return matcher.compile(expression, variables=ALL).evaluate(activation or {})


def assert_caret(err: CompileError) -> None:
    """The rendering shows the error's own line and column-1 dots before the caret."""
    header, source, caret = str(err).split("\n")
    assert header.startswith(f"ERROR: <input>:{err.line}:{err.column}: ")
    assert source == " | " + err.expression.split("\n")[err.line - 1]
    assert caret == " | " + "." * (err.column - 1) + "^"


# ------------------------------------------------------------------ syntax errors

def test_end_of_input_renders_exactly_like_cel_go() -> None:
    err = error_of("event.data.userId == ")
    assert str(err) == (
        "ERROR: <input>:1:22: Syntax error: mismatched input '<EOF>' expecting "
        "{'!', '(', '-', '.', '[', 'false', 'null', 'true', '{', BYTES, IDENTIFIER, "
        "NUM_FLOAT, NUM_INT, NUM_UINT, STRING}\n"
        " | event.data.userId == \n"
        " | " + "." * 21 + "^"
    )
    assert (err.line, err.column, err.offset) == (1, 22, 21)



@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_a_long_line_is_shown_around_the_caret_only(where: str) -> None:
    """A 16 KiB rule on one line must not come back whole in every error message."""
    filler = " && ".join(f"async.data.f{i} == {i}" for i in range(250))  # 6 KiB
    expression = {"start": "async.data.x === 1 && " + filler,
                  "middle": filler + " && async.data.x === 1 && " + filler,
                  "end": filler + " && async.data.x === 1"}[where]
    err = error_of(expression)
    _, source, caret = str(err).split("\n")
    assert len(source) <= 3 + matcher._errors.SOURCE_WINDOW + 2
    assert source.startswith(" | …") == (where != "start")
    assert source.endswith("…") == (where != "end")
    # the caret stands under the very character the error names, in its context
    assert source[len(caret) - 12:len(caret)] == expression[err.offset - 11:err.offset + 1]
    assert expression[err.offset - 11:err.offset + 1] == "async.data.x ==="[-12:]


SYNTAX_ERRORS = [
    # expression, line, column, message fragment
    ("event.data.userId ==", 1, 21, "mismatched input '<EOF>' expecting {"),
    ("a +* b", 1, 4, "mismatched input '*' expecting {"),
    ("(1 + 2", 1, 7, "mismatched input '<EOF>' expecting {')'}"),
    ("[1, 2", 1, 6, "mismatched input '<EOF>'"),
    ("1 ? 2", 1, 6, "mismatched input '<EOF>'"),
    ("event.", 1, 7, "expecting {ESC_IDENTIFIER, IDENTIFIER}"),
    ("event.1", 1, 7, "mismatched input '1'"),
    ("event[1:2]", 1, 8, "mismatched input ':' expecting {']'}"),
    ("[1,,2]", 1, 4, "mismatched input ','"),
    ("f(,)", 1, 3, "mismatched input ','"),
    ("a.b(1,)", 1, 7, "mismatched input ')'"),
    ("()", 1, 2, "mismatched input ')'"),
    ("event.data.x = 1", 1, 14, "token recognition error at: '='"),
    ("event.x @ 1", 1, 9, "token recognition error at: '@'"),
    ("'abc", 1, 1, "token recognition error"),
    ("`a` == 1", 1, 1, "mismatched input '`a`'"),
    ("event.`a", 1, 7, "token recognition error"),
    ("// only a comment", 1, 18, "mismatched input '<EOF>'"),
    ("", 1, 1, "empty expression"),
    ("  \n ", 1, 1, "empty expression"),
    # multi-line: the line number counts newlines, the column restarts on each line
    ("1 +\n 2 ==\n )", 3, 2, "mismatched input ')'"),
    ("event.x == 1\n&& async.y ==", 2, 14, "mismatched input '<EOF>'"),
    ("event.x == 1 // why\n  && @", 2, 6, "token recognition error at: '@'"),
    ("'''a\nb''' +", 2, 7, "mismatched input '<EOF>'"),
    # columns count code points, not bytes
    ("'é' == 1 +", 1, 11, "mismatched input '<EOF>'"),
]


@pytest.mark.parametrize(("expression", "line", "column", "fragment"), SYNTAX_ERRORS)
def test_syntax_error_points_at_the_offending_token(
    expression: str, line: int, column: int, fragment: str
) -> None:
    err = error_of(expression)
    assert err.kind == "Syntax error"
    assert (err.line, err.column) == (line, column)
    assert fragment in err.message
    assert err.expression == expression
    assert_caret(err)


def test_expected_set_names_terminals_like_cel_go() -> None:
    err = error_of("event.x ==")
    for shown in ("IDENTIFIER", "NUM_INT", "NUM_UINT", "NUM_FLOAT", "STRING", "BYTES", "'('"):
        assert shown in err.message


def test_expected_set_after_operator_lists_every_literal_keyword() -> None:
    assert "'true'" in error_of("a +* b", ("a", "b")).message


def test_expected_set_lists_only_tokens_that_can_follow() -> None:
    message = error_of("1 2").message
    assert "':'" not in message and "')'" not in message and "<EOF>" in message


# ------------------------------------------------------------------ literals

BAD_ESCAPES = [
    ("'\\q'", 1, 2, "invalid escape sequence \\q"),
    ("event.x == 'ab\\c'", 1, 15, "invalid escape sequence \\c"),
    ("'\\400'", 1, 2, "invalid escape sequence \\4"),
    ("'\\x4'", 1, 2, "invalid escape sequence \\x"),
    ("'\\u12'", 1, 2, "invalid escape sequence \\u"),
    ("'\\ud800'", 1, 2, "invalid unicode code point \\ud800"),
    ("'\\U00110000'", 1, 2, "invalid unicode code point"),
    ("b'\\z'", 1, 3, "invalid escape sequence \\z"),
    ("'ok' +\n  'x\\p'", 2, 5, "invalid escape sequence \\p"),
]


@pytest.mark.parametrize(("expression", "line", "column", "fragment"), BAD_ESCAPES)
def test_bad_escape_points_at_the_backslash(
    expression: str, line: int, column: int, fragment: str
) -> None:
    err = error_of(expression)
    assert (err.line, err.column) == (line, column)
    assert fragment in err.message
    assert_caret(err)


RANGE_ERRORS = [
    ("9223372036854775808", 1, "integer literal 9223372036854775808 does not fit in int64"),
    ("0x8000000000000000", 1, "does not fit in int64"),
    ("-9223372036854775809", 1, "integer literal -9223372036854775809 does not fit"),
    ("event.x == 99999999999999999999", 12, "does not fit in int64"),
    ("18446744073709551616u", 1, "18446744073709551616u does not fit in uint64"),
    ("0x10000000000000000u", 1, "does not fit in uint64"),
]


@pytest.mark.parametrize(("expression", "column", "fragment"), RANGE_ERRORS)
def test_number_literal_out_of_range(expression: str, column: int, fragment: str) -> None:
    err = error_of(expression)
    assert err.column == column
    assert fragment in err.message


@pytest.mark.parametrize(("expression", "expected"), [
    ("-9223372036854775808", -(2**63)),
    ("9223372036854775807", 2**63 - 1),
    ("- 9223372036854775808", -(2**63)),
    ("0x7fffffffffffffff", 2**63 - 1),
    ("-0x8000000000000000", -(2**63)),
    ("18446744073709551615u", UInt(2**64 - 1)),
    ("0xFFFFFFFFFFFFFFFFU", UInt(2**64 - 1)),
])
def test_number_literal_at_the_edge_of_its_range(expression: str, expected: int) -> None:
    value = value_of(expression)
    assert value == expected and type(value) is type(expected)


def test_negation_folds_only_directly_before_the_digits() -> None:
    with pytest.raises(CompileError, match="9223372036854775808"):
        matcher.compile("-(9223372036854775808)")
    result = matcher.compile("-(-9223372036854775808)").try_evaluate({})
    assert isinstance(result, matcher.EvalError) and "overflow" in result.message


@pytest.mark.parametrize("expression", ["b'\\u00e9'", "b'\\U0001F600'"])
def test_unicode_escapes_are_not_allowed_in_bytes(expression: str) -> None:
    err = error_of(expression)
    assert err.column == 3 and "cannot be used in bytes literals" in err.message


LITERALS = [
    ("0", 0), ("42", 42), ("0x1F", 31), ("0xfF", 255), ("-7", -7),
    ("1u", UInt(1)), ("0x1Fu", UInt(31)), ("7U", UInt(7)),
    ("1.5", 1.5), (".5", 0.5), ("1e3", 1000.0), ("1E-2", 0.01), ("2.5e+1", 25.0),
    ("0.0", 0.0), ("-.25", -0.25),
    ("'single'", "single"), ('"double"', "double"), ("''", ""),
    ("'''tri\nple'''", "tri\nple"), ('"""it\'s "q" """', "it's \"q\" "),
    ("r'\\n\\d'", "\\n\\d"), ('R"\\x"', "\\x"), ("r'''a\\'''", "a\\"),
    ("'\\a\\b\\f\\n\\r\\t\\v'", "\a\b\f\n\r\t\v"),
    ("'\\\\ \\' \\\" \\` \\?'", "\\ ' \" ` ?"),
    ("'\\101\\x41\\X41\\u0041\\U00000041'", "AAAAA"),
    ("'\\u00e9\\U0001F600'", "é\U0001F600"), ("'é'", "é"),
    ("b'abc'", b"abc"), ("B\"x\"", b"x"), ("b'\\xff\\377\\000'", b"\xff\xff\x00"),
    ("b'é'", "é".encode()),
    ("br'\\x'", b"\\x"), ("BR'\\n'", b"\\n"), ("b'''a\nb'''", b"a\nb"),
    ("true", True), ("false", False), ("null", None),
]


@pytest.mark.parametrize(("expression", "expected"), LITERALS)
def test_literal_forms(expression: str, expected: object) -> None:
    value = value_of(expression)
    assert value == expected and type(value) is type(expected)


def test_double_literal_specials() -> None:
    assert math.isinf(value_of("1e400"))  # type: ignore[arg-type]
    assert str(value_of("-0.0")) == "-0.0"


# ------------------------------------------------------------------ names

@pytest.mark.parametrize("word", sorted(
    "as break const continue else for function if import let loop package namespace "
    "return var void while".split()))
def test_reserved_identifier_is_a_syntax_error(word: str) -> None:
    err = error_of(f"event.x == {word}", variables=(*ALL, word))
    assert err.message == f"reserved identifier: {word}"
    assert (err.kind, err.column) == ("Syntax error", 12)
    call = error_of(f"{word}(1)")
    assert call.message == f"reserved identifier: {word}"


@pytest.mark.parametrize("word", ["as", "if", "while", "package"])
def test_reserved_words_are_fine_as_fields_after_a_dot(word: str) -> None:
    prog = matcher.compile(f"event.{word} == 1")
    assert prog.paths == (("event", word),)
    assert prog.evaluate({"event": {word: 1}}) is True


def test_in_keyword_is_not_an_identifier() -> None:
    assert error_of("in == 1", variables=("in",)).kind == "Syntax error"


@pytest.mark.parametrize("word", ["in", "true", "false", "null"])
def test_keywords_are_not_field_names(word: str) -> None:
    err = error_of(f"event.{word} == 1")
    assert (err.kind, err.column) == ("Syntax error", 7)


def test_undeclared_variable_names_the_declared_ones() -> None:
    err = error_of("event.x == 1 && user.id == 2")
    assert err.message == ("undeclared reference to 'user' (in container ''); "
                           "declared variables: async, event")
    assert (err.kind, err.column) == ("check error", 17)
    bulk = error_of("async.x == 1", variables=("event",))
    assert bulk.message.endswith("declared variables: event")
    none = error_of("x", variables=())
    assert none.message.endswith("declared variables: none")


def test_comprehension_variable_is_scoped_to_its_macro() -> None:
    assert value_of("[1, 2].all(x, x > 0)") is True
    err = error_of("[1, 2].all(x, x > 0) && x == 1")
    assert "undeclared reference to 'x'" in err.message and err.column == 25


def test_type_names_are_values() -> None:
    assert value_of("type(1) == int && type(1u) == uint && type('') == string") is True


# ------------------------------------------------------------------ macros and calls

@pytest.mark.parametrize(("expression", "column", "fragment"), [
    ("has(event)", 5, "invalid argument to has() macro"),
    ("has(event['x'])", 5, "invalid argument to has() macro"),
    ("has(1)", 5, "invalid argument to has() macro"),
    ("event.all(1, true)", 11, "all() macro's first argument must be a simple name"),
    ("event.exists(x.y, true)", 14, "exists() macro's first argument"),
    ("event.exists_one(x + 1, true)", 18, "exists_one() macro's first argument"),
    ("event.map('a', 1)", 11, "map() macro's first argument"),
    ("event.map(a.b, true, 1)", 11, "map() macro's first argument"),
    ("event.filter(e.f, true)", 14, "filter() macro's first argument"),
])
def test_macro_argument_errors(expression: str, column: int, fragment: str) -> None:
    err = error_of(expression)
    assert err.kind == "Syntax error" and err.column == column
    assert fragment in err.message
    assert_caret(err)


@pytest.mark.parametrize(("expression", "column", "message"), [
    ("foo(1)", 1, "undeclared reference to 'foo' (in container '')"),
    ("event.x.foo()", 9, "undeclared reference to 'foo' (in container '')"),
    ("event.x == 1 ||\n  bar()", 3, "undeclared reference to 'bar' (in container '')"),
    ("size(1, 2)", 1, "found no matching overload for 'size' applied to '(int, int)'"),
    ("size()", 1, "found no matching overload for 'size' applied to '()'"),
    ("int(1, 2)", 1, "found no matching overload for 'int' applied to '(int, int)'"),
    ("event.data.contains()", 12, "found no matching overload for 'contains' applied to "
     "'dyn.()'"),
    ("event.x.startsWith('a', 'b')", 9, "found no matching overload for 'startsWith' "
     "applied to 'dyn.(string, string)'"),
])
def test_unknown_function_and_wrong_arity(expression: str, column: int, message: str) -> None:
    err = error_of(expression)
    assert (err.kind, err.message, err.column) == ("check error", message, column)


# ------------------------------------------------------------------ literal type errors

@pytest.mark.parametrize(("expression", "column", "operator", "types"), [
    ("'a' + 1", 5, "_+_", "(string, int)"),
    ("!1", 1, "!_", "(int)"),
    ("1 < 'a'", 3, "_<_", "(int, string)"),
    ("-'a'", 1, "-_", "(string)"),
    ("true + 1", 6, "_+_", "(bool, int)"),
    ("1 + 1u", 3, "_+_", "(int, uint)"),
    ("1.5 % 2.0", 5, "_%_", "(double, double)"),
    ("b'a' + 'a'", 6, "_+_", "(bytes, string)"),
    ("null < null", 6, "_<_", "(null_type, null_type)"),
    ("1 in 1", 3, "@in", "(int, int)"),
    ("1 && true", 1, "_&&_", "(int)"),
    ("true || 'a'", 9, "_||_", "(string)"),
    ("1 ? 2 : 3", 1, "_?_:_", "(int)"),
    ("event.x == 1 && [1].all(x, x) + 1 > 0", 31, "_+_", "(bool, int)"),
])
def test_literal_type_errors(expression: str, column: int, operator: str, types: str) -> None:
    err = error_of(expression)
    assert err.kind == "check error"
    assert err.message == f"found no matching overload for '{operator}' applied to '{types}'"
    assert err.column == column
    assert_caret(err)


@pytest.mark.parametrize(("expression", "fragment"), [
    ("1.x", "type 'int' has no fields (selecting 'x')"),
    ("{[1]: 2}", "unsupported map key type: list"),
    ("[1].all(x, x > 0).exists(y, true)", "cannot be the range of a comprehension"),
])
def test_other_static_type_errors(expression: str, fragment: str) -> None:
    assert fragment in error_of(expression).message


@pytest.mark.parametrize("expression", [
    "event.x + 1 > 2", "event.x < 'a'", "!event.x", "-event.x", "event.x in event.y",
    "1 == 'a'", "true == 1", "null == 1", "1 < 1.5 && 1u < 2.0", "'a' < 'b'",
    "duration('1s') + timestamp('2020-01-01T00:00:00Z') > timestamp(0)",
])
def test_well_typed_or_dynamic_expressions_compile(expression: str) -> None:
    matcher.compile(expression)


# ------------------------------------------------------------------ CompileError

def test_compile_error_attributes() -> None:
    expression = "event.x == 1 &&\n  async.y =="
    err = error_of(expression)
    assert isinstance(err, matcher.MatcherError)
    assert (err.line, err.column, err.offset) == (2, 13, 28)
    assert err.expression == expression
    assert err.message.startswith("mismatched input '<EOF>'")
    assert err.render() == str(err)
    assert err.to_dict() == {
        "message": "Syntax error: " + err.message,
        "line": 2,
        "column": 13,
        "offset": 28,
        "rendered": str(err),
    }


def test_compile_error_constructed_directly_clamps_its_offset() -> None:
    err = CompileError("boom", "ab\ncd", 99)
    assert (err.offset, err.line, err.column) == (5, 2, 3)
    assert str(err) == "ERROR: <input>:2:3: boom\n | cd\n | ..^"
    assert err.to_dict()["message"] == "boom"


@pytest.mark.parametrize("expression", [b"1 == 1", None, 1])
def test_non_string_expression_is_a_type_error_naming_it(expression: object) -> None:
    matcher.compile("1 == 1")  # the shape cache now has tables for these variables
    with pytest.raises(TypeError, match="expression must be a str"):
        matcher.compile(expression)  # type: ignore[arg-type]


def test_non_string_expression_is_a_type_error_when_unchecked() -> None:
    with pytest.raises(TypeError, match="expression must be a str, not bytes"):
        matcher.compile(b"1 == 1", check=False)  # type: ignore[arg-type]


def test_variables_given_as_one_string_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="variables must be a collection"):
        matcher.compile("1 == 1", variables="event")


def test_uppercase_hex_prefix_is_not_cel() -> None:
    assert error_of("0XfF").column == 2  # the spec's INT_LIT only has a lowercase 0x


# ------------------------------------------------------------------ syntax coverage

EVENT = {
    "data": {"id": "r1", "n": 5, "tags": ["a", "b"], "m": {"k": 1}, "content-type": "json",
             "a b": 2, "s": "Hello"},
}

SYNTAX = [
    ("event.data.id == 'r1'", True),
    ("event.data.`content-type` == 'json'", True),
    ("event.data.`a b` + 1", 3),
    ("event.data['content-type']", "json"),
    ("event['data']['n']", 5),
    ("event.data.tags[1]", "b"),
    ("event.data.tags[0u]", "a"),
    ("event.data.m.k", 1),
    ("event.data.s.startsWith('He') && event.data.s.endsWith('lo')", True),
    ("event.data.s.contains('ell')", True),
    ("event.data.s.size()", 5),
    ("size(event.data.tags)", 2),
    ("'a' in event.data.tags", True),
    ("'k' in event.data.m", True),
    ("'x' in event.data.m", False),
    ("event.data.n > 3 ? 'big' : 'small'", "big"),
    ("event.data.n < 3 ? 1 : event.data.n < 6 ? 2 : 3", 2),
    ("[1, 2, 3,]", [1, 2, 3]),
    ("{'a': 1, 'b': 2,}", {"a": 1, "b": 2}),
    ("[]", []),
    ("{}", {}),
    ("[[1], [2, [3]]][1][1][0]", 3),
    ("{'a': {'b': [true]}}.a.b[0]", True),
    ("1 + 2 * 3 - 4 / 2 % 3", 5),
    ("(1 + 2) * 3", 9),
    ("-(-3)", 3),
    ("!!true", True),
    ("!(1 < 2) || 2 >= 2 && 3 != 4", True),
    ("1 <= 1 && 2 > 1 && 1 == 1.0", True),
    ("has(event.data.id) && !has(event.data.missing)", True),
    ("event.data.tags.exists(t, t == 'b')", True),
    ("event.data.tags.all(t, t.size() == 1)", True),
    ("event.data.tags.exists_one(t, t == 'a')", True),
    ("event.data.tags.map(t, t + '!')", ["a!", "b!"]),
    ("[1, 2, 3].map(x, x > 1, x * 10)", [20, 30]),
    ("[1, 2, 3].filter(x, x % 2 == 1)", [1, 3]),
    (".event.data.n", 5),
    ("event.data.n // trailing comment", 5),
    ("// leading comment\nevent.data.n\n// another\n== 5", True),
    ("event\n  .data\n  .n\n  == 5", True),
    ("\tevent.data.n\r\n== 5 ", True),
    ("int('7') + int(2.9) + int(1u)", 10),
    ("string(1) + string(true) + string(b'z')", "1truez"),
]


@pytest.mark.parametrize(("expression", "expected"), SYNTAX)
def test_syntax_forms_evaluate(expression: str, expected: object) -> None:
    assert value_of(expression, {"event": EVENT}) == expected


def test_nary_logic_is_one_node() -> None:
    from matcher import _ast as A

    tree = matcher.compile("event.a && event.b && event.c || event.d").ast
    assert isinstance(tree, A.Or) and len(tree.terms) == 2
    assert isinstance(tree.terms[0], A.And) and len(tree.terms[0].terms) == 3


def test_paths_cover_every_syntax_for_fields() -> None:
    prog = matcher.compile(
        "event.data['my-key'] == async.`a b` && has(async.y.z) && async.l[0] == 1 "
        "&& [1].exists(event, event == 1)")
    assert prog.paths == (("async", "a b"), ("async", "l"), ("async", "y", "z"),
                          ("event", "data", "my-key"))
