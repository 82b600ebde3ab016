"""Unit tests of matcher._functions and matcher._timefuncs: the CEL function table, string
functions, conversions, timestamp/duration parsing and accessors, called directly."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher import _functions as Fn
from matcher import _timefuncs as T
from matcher._errors import EvalError
from matcher._functions import FUNCTIONS, format_double
from matcher._values import TYPES, Duration, Timestamp, UInt

S = 1_000_000_000


def call(name: str, *args: Any) -> Any:
    return FUNCTIONS[name].impl(*args)


def raises(message: str) -> Any:
    return pytest.raises(EvalError, match=message)


def ts(text: str) -> Timestamp:
    return T.parse_timestamp(text)


# --- the table ----------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "global_arities", "member_arities"), [
    ("size", {1}, {0}), ("contains", set(), {1}), ("startsWith", set(), {1}),
    ("endsWith", set(), {1}), ("matches", {2}, {1}), ("int", {1}, set()), ("uint", {1}, set()),
    ("double", {1}, set()), ("string", {1}, set()), ("bytes", {1}, set()), ("bool", {1}, set()),
    ("dyn", {1}, set()), ("type", {1}, set()), ("timestamp", {1}, set()),
    ("duration", {1}, set()), ("getFullYear", set(), {0, 1}), ("getMonth", set(), {0, 1}),
    ("getDayOfYear", set(), {0, 1}), ("getDayOfMonth", set(), {0, 1}), ("getDate", set(), {0, 1}),
    ("getDayOfWeek", set(), {0, 1}), ("getHours", set(), {0, 1}), ("getMinutes", set(), {0, 1}),
    ("getSeconds", set(), {0, 1}), ("getMilliseconds", set(), {0, 1}),
])
def test_function_table(name: str, global_arities: set[int], member_arities: set[int]) -> None:
    spec = FUNCTIONS[name]
    assert spec.global_arities == global_arities
    assert spec.member_arities == member_arities
    assert callable(spec.impl)


# --- string functions ----------------------------------------------------------------------

@pytest.mark.parametrize(("name", "s", "arg", "expected"), [
    ("contains", "hello", "he", True), ("contains", "hello", "", True),
    ("contains", "hello", "ol", False), ("contains", "abababc", "ababc", True),
    ("contains", "Stra\u00dfe", "a\u00df", True), ("contains", "", "x", False),
    ("startsWith", "foobar", "foo", True), ("startsWith", "foobar", "bar", False),
    ("startsWith", "", "", True), ("startsWith", "\U0001f431\U0001f600", "\U0001f431", True),
    ("endsWith", "foobar", "bar", True), ("endsWith", "", "foo", False),
    ("endsWith", "fort\u00e9", "t\u00e9", True),
    ("matches", "hubba", "ubb", True), ("matches", "", "foo|bar", False),
    ("matches", "cows", "", True), ("matches", "grey", "gr(a|e)y", True),
    ("matches", "banana", "^ba(na)*$", True), ("matches", "bananas", "^ba(na)*$", False),
    ("matches", "ma\u00f1ana", "a+\u00f1+a+", True),
    ("matches", "\U0001f431\U0001f600\U0001f600", "(a|\U0001f600){2}", True),
    ("matches", "ABC", "(?i)abc", True), ("matches", "a.c", r"a\.c", True),
    ("matches", "abc", r"a\.c", False), ("matches", "x1", r"\d", True),
])
def test_string_functions(name: str, s: str, arg: str, expected: bool) -> None:
    assert call(name, s, arg) is expected


@pytest.mark.parametrize("name", ["contains", "startsWith", "endsWith", "matches"])
@pytest.mark.parametrize(("s", "arg"), [(1, "a"), ("a", 1), (b"a", b"a"), (None, "a"), ("a", None)])
def test_string_functions_need_strings(name: str, s: Any, arg: Any) -> None:
    with raises(f"no such overload: {name}\\("):
        call(name, s, arg)


@pytest.mark.parametrize("pattern", ["a(b", "(a)\\1", "[z-a]", "*"])
def test_matches_invalid_pattern_names_it(pattern: str) -> None:
    with raises("invalid regular expression"):
        call("matches", "ab", pattern)


def test_matches_caches_compiled_patterns_with_a_bound() -> None:
    Fn._REGEX_CACHE.clear()
    for i in range(Fn._REGEX_CACHE_SIZE + 10):
        assert call("matches", f"x{i}y", f"{i}") is True
    assert len(Fn._REGEX_CACHE) == Fn._REGEX_CACHE_SIZE
    assert "0" not in Fn._REGEX_CACHE  # oldest evicted first
    assert call("matches", "x0y", "0") is True


def test_matches_unpaired_surrogate_is_an_eval_error() -> None:
    with raises("not valid UTF-8"):
        call("matches", "\ud800", "a")


def test_size_function() -> None:
    assert call("size", "\u00ff") == 1
    assert call("size", {"a": 1}) == 1
    with raises("no such overload: size\\(int\\)"):
        call("size", 1)


# --- int / uint / double ---------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    (1, 1), (UInt(42), 42), (UInt(9223372036854775807), 9223372036854775807), (-123.456, -123),
    (1.9, 1), (-7.9, -7), (11.5, 11), (-3.5, -3), (-0.5, 0),
    (36028797018963968.0, 36028797018963968),
    ("987", 987), ("-987", -987), ("+5", 5), ("007", 7),
    ("9223372036854775807", 9223372036854775807),
    ("-9223372036854775808", -9223372036854775808),
    (ts("2004-09-16T23:59:59Z"), 1095379199), (ts("1969-12-31T23:59:59.5Z"), -1),
    (Duration(1500), 1500),
])
def test_int(value: Any, expected: int) -> None:
    result = call("int", value)
    assert type(result) is int and result == expected


@pytest.mark.parametrize(("value", "message"), [
    (UInt(18446744073709551615), "int64 overflow"), (9223372036854775807.0, "int64 overflow"),
    (-9223372036854775808.0, "int64 overflow"), (1e99, "int64 overflow"), (math.nan, "overflow"),
    (math.inf, "overflow"), ("9223372036854775808", "int64 overflow"), ("1" * 40, "int64 overflow"),
    ("1.5", "cannot convert string '1.5' to int"), (" 1", "cannot convert"),
    ("1_0", "cannot convert"),
    ("", "cannot convert"), ("\u0661", "cannot convert"), ("0x10", "cannot convert"),
    (True, "no such overload: int\\(bool\\)"), (None, "no such overload"),
    ([1], "no such overload"),
])
def test_int_errors(value: Any, message: str) -> None:
    with raises(message):
        call("int", value)


@pytest.mark.parametrize(("value", "expected"), [
    (1729, 1729), (9223372036854775807, 9223372036854775807), (UInt(1), 1), (3.14159265, 3),
    (25.5, 25), (-0.0, 0), (36028797018963968.0, 36028797018963968), ("300", 300),
    ("18446744073709551615", 18446744073709551615),
])
def test_uint(value: Any, expected: int) -> None:
    result = call("uint", value)
    assert type(result) is UInt and result == expected


@pytest.mark.parametrize(("value", "message"), [
    (-1, "uint64 overflow"), (-0.5, "uint64 overflow"), (6.022e23, "uint64 overflow"),
    (18446744073709551616.0, "uint64 overflow"), (math.nan, "uint64 overflow"),
    ("18446744073709551616", "uint64 overflow"), ("+5", "cannot convert"), ("-1", "cannot convert"),
    (True, "no such overload: uint\\(bool\\)"), ("abc", "cannot convert string 'abc' to uint"),
])
def test_uint_errors(value: Any, message: str) -> None:
    with raises(message):
        call("uint", value)


@pytest.mark.parametrize(("value", "expected"), [
    (0, 0.0), (1000000000000, 1e12), (-9007199254740992, -9007199254740992.0),
    (9223372036854775807, 9.223372036854775807e18),
    (UInt(18446744073709551615), 1.8446744073709552e19),
    (UInt(123), 123.0), (5.5, 5.5), ("0", 0.0), ("123", 123.0), ("123.456", 123.456),
    ("-987.654", -987.654), ("6.02214e23", 6.02214e23), ("1.38e-23", 1.38e-23),
    ("-84.32e7", -843200000.0), ("1E3", 1000.0), (".5", 0.5), ("5.", 5.0), ("+1.5", 1.5),
    ("0x1p3", 8.0), ("-0X1.8P1", -3.0), ("1e-400", 0.0),
    ("inf", math.inf), ("+Inf", math.inf), ("-Infinity", -math.inf), ("INFINITY", math.inf),
])
def test_double(value: Any, expected: float) -> None:
    result = call("double", value)
    assert type(result) is float and result == expected


def test_double_nan_and_negative_zero() -> None:
    assert math.isnan(call("double", "NaN"))
    assert math.isnan(call("double", "nan"))
    assert math.copysign(1.0, call("double", "-0.0")) == -1.0


@pytest.mark.parametrize(("value", "message"), [
    ("1e400", "double out of range"), ("-1e400", "double out of range"),
    ("0x1p99999", "out of range"),
    (" 1", "cannot convert string ' 1' to double"), ("1_0", "cannot convert"),
    ("0x10", "cannot convert"),
    ("", "cannot convert"), (".", "cannot convert"), ("e5", "cannot convert"),
    ("+nan", "cannot convert"),
    ("1e", "cannot convert"), (True, "no such overload: double\\(bool\\)"),
    (None, "no such overload"),
])
def test_double_errors(value: Any, message: str) -> None:
    with raises(message):
        call("double", value)


# --- string / bytes / bool / type / dyn --------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    (1.0, "1"), (1.5, "1.5"), (123.456, "123.456"), (-4.5e-3, "-0.0045"), (0.0, "0"), (-0.0, "-0"),
    (100.0, "100"), (123456.0, "123456"), (1e6, "1e+06"), (1234567.0, "1.234567e+06"),
    (123456789.0, "1.23456789e+08"), (1e21, "1e+21"), (0.0001, "0.0001"), (1e-5, "1e-05"),
    (1.234e-5, "1.234e-05"), (0.1 + 0.2, "0.30000000000000004"), (5e-324, "5e-324"),
    (1.5e300, "1.5e+300"), (-2.5e-10, "-2.5e-10"), (math.inf, "+Inf"), (-math.inf, "-Inf"),
    (math.nan, "NaN"),
])
def test_format_double_is_go_percent_g(value: float, expected: str) -> None:
    assert format_double(value) == expected


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_double_round_trips(value: float) -> None:
    text = format_double(value)
    assert float(text) == value
    assert math.copysign(1.0, float(text)) == math.copysign(1.0, value)


@pytest.mark.parametrize(("value", "expected"), [
    ("hello", "hello"), (123, "123"), (-456, "-456"), (UInt(9876), "9876"), (123.456, "123.456"),
    (True, "true"), (False, "false"), (b"abc", "abc"), (b"\xc3\xbf", "\u00ff"), (b"", ""),
    (ts("2009-02-13T23:31:30Z"), "2009-02-13T23:31:30Z"),
    (ts("9999-12-31T23:59:59.999999999Z"), "9999-12-31T23:59:59.999999999Z"),
    (ts("2009-02-13T23:31:30.1Z"), "2009-02-13T23:31:30.100Z"),
    (Duration(1000000 * S), "1000000s"), (Duration(-1_500_000_000), "-1.500s"),
    (Duration(1000), "0.000001s"),
])
def test_string(value: Any, expected: str) -> None:
    assert call("string", value) == expected


@pytest.mark.parametrize(("value", "message"), [
    (b"\x00\xff", "invalid UTF-8"), (b"\xed\xa0\x80", "invalid UTF-8"),
    (None, "no such overload: string\\(null_type\\)"), ([1], "no such overload"),
    (TYPES["int"], "no such overload"), ({}, "no such overload"),
])
def test_string_errors(value: Any, message: str) -> None:
    with raises(message):
        call("string", value)


@pytest.mark.parametrize(("value", "expected"), [
    ("", b""), ("abc", b"abc"), ("\u00ff", b"\xc3\xbf"), (b"\xff", b"\xff"),
])
def test_bytes(value: Any, expected: bytes) -> None:
    assert call("bytes", value) == expected


@pytest.mark.parametrize(("value", "message"), [
    ("\ud800", "invalid UTF-8"), (1, "no such overload: bytes\\(int\\)"),
    (None, "no such overload"),
])
def test_bytes_errors(value: Any, message: str) -> None:
    with raises(message):
        call("bytes", value)


@pytest.mark.parametrize(("value", "expected"), [
    (True, True), (False, False), ("1", True), ("t", True), ("T", True), ("true", True),
    ("TRUE", True), ("True", True), ("0", False), ("f", False), ("F", False), ("false", False),
    ("FALSE", False), ("False", False),
])
def test_bool(value: Any, expected: bool) -> None:
    assert call("bool", value) is expected


@pytest.mark.parametrize(("value", "message"), [
    ("TrUe", "cannot convert string 'TrUe' to bool"), ("FaLsE", "cannot convert"),
    ("", "cannot convert"),
    ("yes", "cannot convert"), (" true", "cannot convert"), (1, "no such overload: bool\\(int\\)"),
    (None, "no such overload"),
])
def test_bool_errors(value: Any, message: str) -> None:
    with raises(message):
        call("bool", value)


@pytest.mark.parametrize(("value", "name"), [
    (True, "bool"), (0, "int"), (UInt(64), "uint"), (3.14, "double"), (None, "null_type"),
    ("foo", "string"), (b"\xff", "bytes"), ([1], "list"), ((1,), "list"), ({4: 16}, "map"),
    (TYPES["int"], "type"), (ts("2009-02-13T23:31:30Z"), "google.protobuf.Timestamp"),
    (Duration(1), "google.protobuf.Duration"),
])
def test_type(value: Any, name: str) -> None:
    assert call("type", value) is TYPES[name]


def test_type_of_a_non_cel_value_is_an_eval_error() -> None:
    with raises("set is not a CEL value"):
        call("type", {1})


@pytest.mark.parametrize("value", [1, "a", None, [1, "one"], {"a": 1}])
def test_dyn_is_identity(value: Any) -> None:
    assert call("dyn", value) is value


# --- timestamps -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "seconds", "nanos"), [
    ("2009-02-13T23:31:30Z", 1234567890, 0), ("1970-01-01T00:00:00Z", 0, 0),
    ("2009-02-13T23:31:30.123456789Z", 1234567890, 123456789),
    ("2009-02-13T23:31:30.1Z", 1234567890, 100_000_000),
    ("2009-02-13T23:31:30.1234567891234Z", 1234567890, 123456789),
    ("2009-02-14T00:31:30+01:00", 1234567890, 0), ("2009-02-13T18:01:30-05:30", 1234567890, 0),
    ("2009-02-13t23:31:30z", 1234567890, 0), ("0001-01-01T00:00:00Z", -62135596800, 0),
    ("9999-12-31T23:59:59.999999999Z", 253402300799, 999999999),
    ("2000-02-29T00:00:00Z", 951782400, 0),
    ("1969-12-31T23:59:59.5Z", -1, 500_000_000),
])
def test_parse_timestamp(text: str, seconds: int, nanos: int) -> None:
    assert call("timestamp", text) == Timestamp(seconds * S + nanos)


@pytest.mark.parametrize(("text", "message"), [
    ("0000-01-01T00:00:00Z", "timestamp out of range"),
    ("10000-01-01T00:00:00Z", "invalid timestamp"),
    ("0001-01-01T00:00:00+00:01", "timestamp out of range"),
    ("9999-12-31T23:59:59-00:01", "timestamp out of range"),
    ("2009-02-13T23:31:30", "expected RFC 3339"), ("2009-02-13 23:31:30Z", "expected RFC 3339"),
    ("2009-02-13T23:31Z", "expected RFC 3339"), ("2009-2-13T23:31:30Z", "expected RFC 3339"),
    ("2009-02-13T23:31:30.Z", "expected RFC 3339"), ("", "expected RFC 3339"),
    ("2009-02-13T24:00:00Z", "out of range"), ("2009-02-13T23:59:60Z", "out of range"),
    ("2009-02-30T00:00:00Z", "out of range"), ("2001-02-29T00:00:00Z", "out of range"),
    ("2009-13-01T00:00:00Z", "out of range"), ("2009-02-13T23:31:30+24:00", "offset out of range"),
    ("x" * 1000, "invalid timestamp 'xxx"),
])
def test_parse_timestamp_errors(text: str, message: str) -> None:
    with raises(message):
        call("timestamp", text)


@pytest.mark.parametrize(("seconds", "ok"), [
    (1000000000, True), (0, True), (-62135596800, True), (253402300799, True),
    (-62135596801, False), (253402300800, False),
])
def test_timestamp_from_int(seconds: int, ok: bool) -> None:
    if ok:
        assert call("timestamp", seconds) == Timestamp(seconds * S)
    else:
        with raises("timestamp out of range"):
            call("timestamp", seconds)


@pytest.mark.parametrize("value", [1.5, UInt(1), True, None, Duration(1)])
def test_timestamp_overloads(value: Any) -> None:
    with raises("no such overload: timestamp"):
        call("timestamp", value)


def test_timestamp_and_duration_of_themselves_are_identity() -> None:
    t = Timestamp(5)
    d = Duration(5)
    assert call("timestamp", t) is t
    assert call("duration", d) is d


@pytest.mark.parametrize(("text", "nanos"), [
    ("1h30m", 5400 * S), ("1.5h", 5400 * S), ("-1.5s", -1_500_000_000), ("1ms", 1_000_000),
    ("2us", 2000), ("2\u00b5s", 2000), ("2\u03bcs", 2000), ("3ns", 3), ("0", 0), ("-0", 0),
    ("+1s", S), (".5s", S // 2), ("5.s", 5 * S), ("1h1h", 7200 * S), ("1m0.5s", 60_500_000_000),
    ("100s", 100 * S), ("123.321456789s", 123_321_456_789), ("0.0000000019s", 1),
    ("9223372036s", 9223372036 * S), ("-9223372036.854775808s", -(2**63)),
    ("2562047h", 2562047 * 3600 * S), ("9223372036854775807ns", 2**63 - 1),
    ("1." + "9" * 200 + "ns", 1),
])
def test_parse_duration(text: str, nanos: int) -> None:
    assert call("duration", text) == Duration(nanos)


@pytest.mark.parametrize(("text", "message"), [
    ("", "invalid duration ''"), ("1", "invalid duration"), ("1d", "invalid duration"),
    ("s", "invalid duration"), (".s", "invalid duration"), ("1s ", "invalid duration"),
    (" 1s", "invalid duration"), ("1S", "invalid duration"), ("--1s", "invalid duration"),
    ("+", "invalid duration"), ("1h-1m", "invalid duration"),
    ("320000000000s", "duration out of range"), ("-320000000000s", "duration out of range"),
    # issue 8 F3: the range is int64 nanoseconds (Go's time.ParseDuration), checked here
    ("9223372036854775808ns", "duration out of range"), ("10000000000s", "duration out of range"),
    ("2562048h", "duration out of range"), ("-9223372036.854775809s", "duration out of range"),
    ("9" * 5000 + "s", "duration out of range"), ("1s" * 65, "more than 64 parts"),
])
def test_parse_duration_errors(text: str, message: str) -> None:
    with raises(message):
        call("duration", text)


@pytest.mark.parametrize("value", [1, 1.5, None, Timestamp(0)])
def test_duration_overloads(value: Any) -> None:
    with raises("no such overload: duration"):
        call("duration", value)


# --- accessors ----------------------------------------------------------------------------------

FEB13 = "2009-02-13T23:31:30Z"


@pytest.mark.parametrize(("text", "name", "tz", "expected"), [
    (FEB13, "getDate", None, 13), (FEB13, "getDayOfMonth", None, 12),
    (FEB13, "getDayOfWeek", None, 5), (FEB13, "getDayOfYear", None, 43),
    (FEB13, "getFullYear", None, 2009), (FEB13, "getHours", None, 23),
    (FEB13, "getMinutes", None, 31), (FEB13, "getMonth", None, 1), (FEB13, "getSeconds", None, 30),
    ("2009-02-13T23:31:20.123456789Z", "getMilliseconds", None, 123),
    (FEB13, "getDate", "Australia/Sydney", 14), (FEB13, "getDayOfMonth", "US/Central", 12),
    (FEB13, "getDayOfMonth", "+11:00", 13), ("2009-02-13T02:00:00Z", "getDayOfMonth", "-02:30", 11),
    ("2009-02-13T02:00:00Z", "getDayOfMonth", "America/St_Johns", 11),
    (FEB13, "getDayOfWeek", "UTC", 5), (FEB13, "getDayOfYear", "US/Central", 43),
    (FEB13, "getFullYear", "-09:30", 2009), (FEB13, "getHours", "02:00", 1),
    (FEB13, "getMinutes", "Asia/Kathmandu", 16), (FEB13, "getMonth", "UTC", 1),
    (FEB13, "getSeconds", "-00:00", 30), (FEB13, "getHours", "", 23),
    (FEB13, "getMilliseconds", "Asia/Kathmandu", 0),
    # daylight saving time: Los Angeles is UTC-7 in July, UTC-8 in January
    ("2024-07-01T12:00:00Z", "getHours", "America/Los_Angeles", 5),
    ("2024-01-01T12:00:00Z", "getHours", "America/Los_Angeles", 4),
    ("2024-12-31T23:59:59Z", "getDayOfYear", None, 365),
    ("2023-12-31T23:59:59Z", "getDayOfYear", None, 364),
    ("2024-01-01T00:00:00Z", "getDayOfWeek", None, 1),
    ("1969-12-31T23:59:59.999Z", "getMilliseconds", None, 999),
    ("1969-12-31T23:59:59Z", "getDayOfWeek", None, 3),
    ("1969-12-31T23:59:59Z", "getHours", None, 23),
    # the wall clock may leave datetime's year range; cel-go answers year 0 / 10000
    ("0001-01-01T00:00:00Z", "getFullYear", "-08:00", 0),
    ("0001-01-01T00:00:00Z", "getFullYear", "America/Los_Angeles", 0),
    ("9999-12-31T23:59:59Z", "getFullYear", "Asia/Tokyo", 10000),
    ("0001-01-01T00:00:00Z", "getMonth", "-01:00", 11),
])
def test_timestamp_accessors(text: str, name: str, tz: str | None, expected: int) -> None:
    value = ts(text)
    result = call(name, value) if tz is None else call(name, value, tz)
    assert type(result) is int and result == expected


@given(st.integers(-62135596800 * S, 253402300799 * S + S - 1))
def test_calendar_fields_agree_with_datetime(nanos: int) -> None:
    import datetime as dt

    value = Timestamp(nanos)
    expected = dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=nanos // 1000)
    assert call("getFullYear", value) == expected.year
    assert call("getMonth", value) == expected.month - 1
    assert call("getDate", value) == expected.day
    assert call("getDayOfYear", value) == expected.timetuple().tm_yday - 1
    assert call("getDayOfWeek", value) == expected.isoweekday() % 7
    assert call("getHours", value) == expected.hour
    assert call("getSeconds", value) == expected.second


@given(st.integers(-800_000, 3_000_000))
def test_civil_day_numbers_round_trip(days: int) -> None:
    assert T.days_from_civil(*T.civil_from_days(days)) == days


@pytest.mark.parametrize(("tz", "message"), [
    ("Invalid/Zone", "invalid time zone 'Invalid/Zone'"), ("utc", "invalid time zone"),
    ("/etc/passwd", "invalid time zone"), ("../../etc/passwd", "invalid time zone"),
    ("Local", "invalid time zone"), ("+0530", "invalid time zone"),
    ("-05:60", "minutes must be 0..59"), ("+05:-30", "minutes must be 0..59"),
    ("a:b", "invalid time zone offset"), ("+05:30:00", "invalid time zone offset"),
    ("05:", "invalid time zone offset"), (":30", "invalid time zone offset"),
    ("+\u0665:00", "invalid time zone offset"), ("+2562048:00", "offset '\\+2562048:00': out of range"),
])
def test_bad_time_zones(tz: str, message: str) -> None:
    with raises(message):
        call("getHours", ts(FEB13), tz)


@pytest.mark.parametrize(("tz", "seconds"), [
    # issue 8 F5: cel-go (common/types/timestamp.go, timeZone) reads the hours and minutes of
    # a fixed offset with strconv.Atoi, so any hour count is an offset, and a leading '-'
    # makes the minutes count west too; CEL C++ computes these as well.
    ("+24:00", 86400), ("24:00", 86400), ("-25:30", -91800), ("+99:59", 359940),
    ("+1:5", 3900), ("+5:3", 18180), ("-0:30", -1800), ("+5:+30", 19800),
    ("+2562047:00", 2562047 * 3600),
])
def test_fixed_offsets_are_computed_like_cel_go(tz: str, seconds: int) -> None:
    assert T.utc_offset_seconds(ts(FEB13), tz) == seconds
    local = ts(FEB13).nanos // S + seconds
    assert call("getHours", ts(FEB13), tz) == local % 86400 // 3600


@pytest.mark.parametrize(("zone", "shown"), [(5, "int"), (None, "null_type")])
def test_time_zone_must_be_a_string(zone: Any, shown: str) -> None:
    # null must not silently mean UTC
    with raises(f"no such overload: getHours\\(google.protobuf.Timestamp, {shown}\\)"):
        call("getHours", ts(FEB13), zone)
    with raises(f"no such overload: time zone must be a string, got {shown}"):
        T.utc_offset_seconds(ts(FEB13), zone)


def test_accessors_take_at_most_one_zone() -> None:
    with raises("no such overload: getHours"):
        call("getHours", ts(FEB13), "UTC", "UTC")


@pytest.mark.parametrize(("nanos", "name", "expected"), [
    (10000 * S, "getHours", 2), (3730 * S, "getMinutes", 62), (3730 * S, "getSeconds", 3730),
    (123_321_456_789, "getMilliseconds", 321), (-123_321_456_789, "getMilliseconds", -321),
    (-90 * 60 * S, "getHours", -1), (-90 * 60 * S, "getMinutes", -90), (-S // 2, "getSeconds", 0),
    (59 * 60 * S, "getHours", 0),
])
def test_duration_accessors(nanos: int, name: str, expected: int) -> None:
    result = call(name, Duration(nanos))
    assert type(result) is int and result == expected


@pytest.mark.parametrize(("name", "args", "message"), [
    ("getHours", (Duration(S), "UTC"),
     "no such overload: getHours\\(google.protobuf.Duration, string\\)"),
    ("getFullYear", (Duration(S),), "no such overload: getFullYear\\(google.protobuf.Duration\\)"),
    ("getDate", (Duration(S),), "no such overload"),
    ("getHours", (1,), "no such overload: getHours\\(int\\)"),
    ("getMonth", ("2009-02-13T23:31:30Z",), "no such overload"),
    ("getSeconds", (None, "UTC"), "no such overload"),
])
def test_accessor_overloads(name: str, args: tuple[Any, ...], message: str) -> None:
    with raises(message):
        call(name, *args)


def test_zone_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(T, "_ZONE_CACHE_SIZE", 3)
    T._ZONE_CACHE.clear()
    for name in ["UTC", "Europe/Paris", "Asia/Tokyo", "America/New_York", "UTC"]:
        assert call("getHours", ts(FEB13), name) in (23, 0, 8, 18)
        assert len(T._ZONE_CACHE) <= 3
    assert list(T._ZONE_CACHE) == ["Asia/Tokyo", "America/New_York", "UTC"]
