"""Unit tests of matcher._runtime: CEL operators and container operations, called directly."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher import _runtime as R
from matcher._errors import EvalError
from matcher._values import (
    INT64_MAX,
    INT64_MIN,
    TRUE_KEY,
    TYPES,
    UINT64_MAX,
    BoolKey,
    Duration,
    Timestamp,
    UInt,
    map_key,
)

NAN = math.nan
INF = math.inf
S = 1_000_000_000  # nanoseconds per second
TS_MAX = 253402300799 * S + S - 1  # 9999-12-31T23:59:59.999999999Z
TS_MIN = -62135596800 * S  # 0001-01-01T00:00:00Z


def cel(value: Any) -> Any:
    """Test data written with Python bool keys, stored the way a CEL map stores them."""
    if type(value) is dict:
        return {map_key(k): cel(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(cel(v) for v in value)
    return value


def ts(seconds: int, nanos: int = 0) -> Timestamp:
    return Timestamp(seconds * S + nanos)


def dur(seconds: int, nanos: int = 0) -> Duration:
    return Duration(seconds * S + nanos)


def raises(message: str) -> Any:
    return pytest.raises(EvalError, match=message)


# --- equality ---------------------------------------------------------------------------

EQUAL = [
    (1, 1), (1, UInt(1)), (1, 1.0), (UInt(1), 1.0), (-0.0, 0), (0.0, -0.0), ("a", "a"),
    ("", ""), (b"\xff", b"\xff"), (True, True), (False, False), (None, None),
    ([], []), ([1, "a"], [1.0, "a"]), ([1, [2]], (1.0, [UInt(2)])), ({}, {}),
    ({"a": 1}, {"a": 1.0}), ({1: "x"}, {UInt(1): "x"}), ({1: "x", "k": [1]}, {"k": [1], 1: "x"}),
    ({True: 1}, {True: 1.0}), (ts(5), ts(5)), (dur(-1), dur(-1)),
    (TYPES["int"], TYPES["int"]), (INF, INF),
    # an int meets a double as the nearest double (cel-go, C++; conformance *_lossy_double)
    (INT64_MAX, 9223372036854775808.0), (UInt(UINT64_MAX), 18446744073709551616.0),
    (9007199254740993, 9007199254740992.0),
]
UNEQUAL = [
    (1, 2), (1, 1.5), (UInt(2), 1), ("1", 1), (True, 1), (False, 0), (1.0, True),
    (b"a", "a"), (None, 0), (None, False), (None, ""), (NAN, NAN), ([NAN], [NAN]),
    ({"a": NAN}, {"a": NAN}), ([1], [1, 2]), ([True], [1]), ({"a": 1}, {"b": 1}),
    ({"a": 1}, {"a": 1, "b": 2}), ({1: "x"}, {True: "x"}), ({0: "x"}, {False: "x"}),
    ([], {}), (ts(1), dur(1)), (ts(1), ts(2)), (dur(1), 1), (TYPES["int"], TYPES["uint"]),
    (TYPES["int"], "int"), ([1], 1), (INT64_MAX, 9223372036854777856.0),
]


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_eq_true(a: Any, b: Any) -> None:
    a, b = cel(a), cel(b)
    assert R.eq(a, b) is True and R.eq(b, a) is True
    assert R.ne(a, b) is False and R.ne(b, a) is False


@pytest.mark.parametrize(("a", "b"), UNEQUAL)
def test_eq_false(a: Any, b: Any) -> None:
    a, b = cel(a), cel(b)
    assert R.eq(a, b) is False and R.eq(b, a) is False
    assert R.ne(a, b) is True and R.ne(b, a) is True


def test_eq_nan_identity_is_not_equality() -> None:
    # Python's list == short-cuts on identity; CEL's NaN is never equal, even to itself.
    nan = float("nan")
    items = [nan]
    assert R.eq(nan, nan) is False
    assert R.eq(items, items) is False


_scalars = st.one_of(
    st.integers(INT64_MIN, INT64_MAX), st.integers(0, UINT64_MAX).map(UInt), st.floats(),
    st.booleans(), st.text(max_size=4), st.binary(max_size=4), st.none(),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=3), st.integers(-3, 3)), inner, max_size=3),
    ),
    max_leaves=8,
)


@given(_values, _values)
def test_eq_is_symmetric_and_never_raises(a: Any, b: Any) -> None:
    assert R.eq(a, b) is R.eq(b, a)
    assert R.ne(a, b) is (not R.eq(a, b))


# --- ordering ---------------------------------------------------------------------------

LESS = [
    (1, 2), (-1, UInt(0)), (UInt(1), 2), (1, 1.5), (1.5, 2), (UInt(1), 1.5), (-INF, 0),
    ("a", "b"), ("", "a"), ("Z", "a"), ("a", "\u00e9"), ("\uffff", "\U0001f431"), (b"", b"\x00"),
    (b"\x7f", b"\x80"), (False, True), (ts(1), ts(2)), (dur(-1), dur(0)),
    (INT64_MAX, 9223372036854777857.0), (UInt(UINT64_MAX), 18446744073709590000.0),
]


@pytest.mark.parametrize(("a", "b"), LESS)
def test_ordering_of_smaller_first(a: Any, b: Any) -> None:
    assert (R.lt(a, b), R.le(a, b), R.gt(a, b), R.ge(a, b)) == (True, True, False, False)
    assert (R.lt(b, a), R.le(b, a), R.gt(b, a), R.ge(b, a)) == (False, False, True, True)


@pytest.mark.parametrize(("a", "b"), [
    (1, 1), (1, UInt(1)), (1, 1.0), ("a", "a"), (True, True), (ts(3), ts(3)),
    # conformance comparisons/*_lossy_double: the int rounds to 2^63 first
    (INT64_MAX, 9223372036854775808.0), (INT64_MIN, -9223372036854775809.0),
])
def test_ordering_of_equal_values(a: Any, b: Any) -> None:
    assert (R.lt(a, b), R.le(a, b), R.gt(a, b), R.ge(a, b)) == (False, True, False, True)


@pytest.mark.parametrize("other", [NAN, 1, 1.0, UInt(1), -INF])
def test_nan_compares_false(other: Any) -> None:
    for op in (R.lt, R.le, R.gt, R.ge):
        assert op(NAN, other) is False and op(other, NAN) is False


@pytest.mark.parametrize(("a", "b", "shown"), [
    (1, "1", "int < string"), (True, 1, "bool < int"), (None, None, "null_type < null_type"),
    ([1], [2], "list < list"), ({}, {}, "map < map"),
    (ts(1), dur(1), "google.protobuf.Timestamp < google.protobuf.Duration"),
    (b"a", "a", "bytes < string"), (TYPES["int"], TYPES["int"], "type < type"),
])
def test_ordering_without_overload(a: Any, b: Any, shown: str) -> None:
    with raises(f"no such overload: {shown}"):
        R.lt(a, b)
    for op in (R.le, R.gt, R.ge):
        with raises("no such overload"):
            op(a, b)


# --- arithmetic ---------------------------------------------------------------------------

ARITH = [
    (R.add, 40, 2, 42), (R.add, UInt(40), UInt(2), UInt(42)), (R.add, 1.5, 2.25, 3.75),
    (R.add, "ab", "c", "abc"), (R.add, b"a", b"\xff", b"a\xff"), (R.add, [1], [2.0], [1, 2.0]),
    (R.add, (1,), [2], [1, 2]), (R.add, [], (), []),
    (R.add, ts(10), dur(5), ts(15)), (R.add, dur(5), ts(10), ts(15)),
    (R.add, dur(1, 999_999_999), dur(0, 1), dur(2)),
    (R.sub, 42, 50, -8), (R.sub, UInt(5), UInt(5), UInt(0)), (R.sub, 0.5, 1.0, -0.5),
    (R.sub, ts(10), dur(15), ts(-5)), (R.sub, ts(10), ts(15), dur(-5)),
    (R.sub, dur(1), dur(3), dur(-2)),
    (R.mul, -30, -2, 60), (R.mul, UInt(40), UInt(2), UInt(80)), (R.mul, 40.75, -2.25, -91.6875),
    (R.div, -80, -2, 40), (R.div, 7, 2, 3), (R.div, -7, 2, -3), (R.div, 7, -2, -3),
    (R.div, -1, 2, 0), (R.div, UInt(60), UInt(7), UInt(8)), (R.div, 0.0625, 0.002, 31.25),
    (R.div, INT64_MIN, 1, INT64_MIN),
    (R.mod, 47, 5, 2), (R.mod, 43, -5, 3), (R.mod, -42, -5, -2), (R.mod, -3, 5, -3),
    (R.mod, UInt(42), UInt(5), UInt(2)), (R.mod, INT64_MIN, 1, 0),
]


@pytest.mark.parametrize(("op", "a", "b", "expected"), ARITH)
def test_arithmetic(op: Any, a: Any, b: Any, expected: Any) -> None:
    result = op(a, b)
    assert type(result) is type(expected)
    assert result == expected


@pytest.mark.parametrize(("a", "b", "expected"), [
    (15.75, 0.0, INF), (-1.0, 0.0, -INF), (1.0, -0.0, -INF), (-1.0, -0.0, INF),
])
def test_double_division_by_zero_is_ieee(a: float, b: float, expected: float) -> None:
    assert R.div(a, b) == expected


@pytest.mark.parametrize(("a", "b"), [(0.0, 0.0), (NAN, 0.0), (-0.0, -0.0)])
def test_double_zero_over_zero_is_nan(a: float, b: float) -> None:
    assert math.isnan(R.div(a, b))


def test_double_overflow_is_infinity() -> None:
    assert R.mul(2.0, 8.988466e307) == INF
    assert R.mul(2.0, -8.988466e307) == -INF


ARITH_ERRORS = [
    (R.add, INT64_MAX, 1, "int64 overflow"), (R.add, INT64_MIN, -1, "int64 overflow"),
    (R.sub, INT64_MIN, 1, "int64 overflow"), (R.sub, 1, -INT64_MAX, "int64 overflow"),
    (R.mul, INT64_MIN, -1, "int64 overflow"),
    (R.mul, 5_000_000_000, 5_000_000_000, "int64 overflow"),
    (R.div, INT64_MIN, -1, "int64 overflow"), (R.mod, INT64_MIN, -1, "int64 overflow"),
    (R.div, 15, 0, "divide by zero"), (R.mod, 34, 0, "modulus by zero"),
    (R.div, UInt(15), UInt(0), "divide by zero"), (R.mod, UInt(34), UInt(0), "modulus by zero"),
    (R.add, UInt(UINT64_MAX), UInt(1), "uint64 overflow"),
    (R.sub, UInt(0), UInt(1), "uint64 overflow"),
    (R.mul, UInt(5_000_000_000), UInt(5_000_000_000), "uint64 overflow"),
    (R.add, 1, 1.0, "no such overload: int \\+ double"),
    (R.add, 1, UInt(1), "no such overload: int \\+ uint"),
    (R.add, UInt(1), 1, "no such overload"), (R.sub, 1.0, 1, "no such overload: double - int"),
    (R.mul, 2, 2.0, "no such overload"), (R.div, 2.0, 2, "no such overload"),
    (R.mod, 47.5, 5.5, "no such overload: double % double"),
    (R.mod, 5, UInt(2), "no such overload"),
    (R.add, True, True, "no such overload: bool \\+ bool"), (R.add, "a", b"a", "no such overload"),
    (R.add, "a", 1, "no such overload: string \\+ int"), (R.add, None, None, "no such overload"),
    (R.add, {}, {}, "no such overload: map \\+ map"), (R.mul, "ab", 2, "no such overload"),
    (R.add, ts(1), ts(1), "no such overload"), (R.sub, dur(1), ts(1), "no such overload"),
    (R.mul, dur(1), 2, "no such overload"),
    (R.add, Timestamp(TS_MAX), dur(0, 1), "timestamp out of range"),
    (R.sub, Timestamp(TS_MIN), dur(0, 1), "timestamp out of range"),
    (R.add, Timestamp(TS_MIN), dur(-1), "timestamp out of range"),
    (R.add, dur(200_000_000_000), dur(200_000_000_000), "duration out of range"),
    (R.sub, dur(-200_000_000_000), dur(200_000_000_000), "duration out of range"),
    # conformance timestamps/timestamp_range/sub_time_duration_over: 315537897599 s is more
    # than a computed duration can hold (int64 nanoseconds)
    (R.sub, Timestamp(253402300799 * S), Timestamp(TS_MIN), "duration out of range"),
    (R.sub, Timestamp(TS_MIN), Timestamp(253402300799 * S), "duration out of range"),
]


@pytest.mark.parametrize(("op", "a", "b", "message"), ARITH_ERRORS)
def test_arithmetic_errors(op: Any, a: Any, b: Any, message: str) -> None:
    with raises(message):
        op(a, b)


def test_timestamp_arithmetic_reaches_the_range_edges() -> None:
    assert R.add(Timestamp(TS_MAX - 1), dur(0, 1)) == Timestamp(TS_MAX)
    assert R.sub(Timestamp(TS_MIN + 1), dur(0, 1)) == Timestamp(TS_MIN)
    assert R.add(ts(1, 1), Duration(-999_999_999)) == ts(0, 2)


_int64 = st.integers(INT64_MIN, INT64_MAX)


@given(_int64, _int64.filter(lambda b: b != 0))
def test_int_division_truncates_and_mod_keeps_dividend_sign(a: int, b: int) -> None:
    if a == INT64_MIN and b == -1:
        return
    q, r = R.div(a, b), R.mod(a, b)
    assert q * b + r == a
    assert abs(r) < abs(b)
    assert r == 0 or (r < 0) == (a < 0)
    assert abs(q) == abs(a) // abs(b)


@given(_int64, _int64)
def test_int_add_is_exact_or_overflows(a: int, b: int) -> None:
    if INT64_MIN <= a + b <= INT64_MAX:
        assert R.add(a, b) == a + b
    else:
        with raises("int64 overflow"):
            R.add(a, b)


# --- unary -------------------------------------------------------------------------------

@pytest.mark.parametrize(("a", "expected"), [(42, -42), (-42, 42), (0, 0), (INT64_MAX, -INT64_MAX),
                                             (4.5, -4.5), (-1.25, 1.25)])
def test_neg(a: Any, expected: Any) -> None:
    result = R.neg(a)
    assert type(result) is type(expected) and result == expected


def test_neg_of_double_zero_is_negative_zero() -> None:
    assert math.copysign(1.0, R.neg(0.0)) == -1.0


@pytest.mark.parametrize(("a", "message"), [
    (INT64_MIN, "int64 overflow"), (UInt(5), "no such overload: -uint"),
    (False, "no such overload: -bool"), ("1", "no such overload"), (dur(1), "no such overload"),
])
def test_neg_errors(a: Any, message: str) -> None:
    with raises(message):
        R.neg(a)


def test_logical_not() -> None:
    assert R.logical_not(True) is False
    assert R.logical_not(False) is True


@pytest.mark.parametrize("a", [0, 1, None, "true", [], UInt(0)])
def test_logical_not_needs_bool(a: Any) -> None:
    with raises("no such overload: !"):
        R.logical_not(a)


def test_ensure_bool() -> None:
    assert R.ensure_bool(True) is True
    assert R.ensure_bool(False) is False
    with raises("no such overload: expected bool, got int"):
        R.ensure_bool(1)
    with raises("expected bool, got null_type"):
        R.ensure_bool(None)


# --- containers -----------------------------------------------------------------------------

@pytest.mark.parametrize(("elem", "container", "expected"), [
    (3, [5, 4, 3], True), (3.0, [5, 4, 3], True), (UInt(3), [5, 4, 3], True),
    (3, [5.0, 3.0], True), (3, [UInt(3)], True), (7, [], False), ("a", ["a", "b"], True),
    ("a", [b"a"], False), (b"a", ["a", b"a"], True), (1, [True], False), (True, [1], False),
    (True, [True], True), (NAN, [NAN], False), ([1], [[1.0]], True), ("x", ("x",), True),
    (None, [None], True), ({"a": 1}, [{"a": 1.0}], True),
    ("George", {"George": 1}, True), ("spider", {"ant": 6}, False), (3.0, {1: 1, 3: 2}, True),
    (3.0, {UInt(3): 1}, True), (3.1, {3: 1}, False), (UInt(2), {2: 1}, True),
    (1, {UInt(1): 1}, True),
    (True, {True: 1}, True), (True, {1: 1}, False), (1, {True: 1}, False), (0, {False: 1}, False),
    (1.0, {True: 1}, False), (NAN, {1: 1}, False),
])
def test_in(elem: Any, container: Any, expected: bool) -> None:
    assert R.in_(elem, cel(container)) is expected


@pytest.mark.parametrize(("elem", "container", "message"), [
    (1, "123", "no such overload: int in string"), (1, None, "no such overload"),
    (b"a", {"a": 1}, "unsupported key type: bytes"), (None, {}, "unsupported key type: null"),
    ([1], {1: 1}, "unsupported key type: list"),
])
def test_in_errors(elem: Any, container: Any, message: str) -> None:
    with raises(message):
        R.in_(elem, container)


@pytest.mark.parametrize(("container", "key", "expected"), [
    ([7, 8, 9], 0, 7), ([7, 8, 9], 2, 9), ([7, 8, 9], UInt(1), 8), ([7, 8, 9], 0.0, 7),
    ((7, 8), 1, 8), ({"a": 1}, "a", 1), ({0: 1, 5: True}, 5, True),
    ({UInt(2): "happy"}, UInt(2), "happy"),
    ({True: 5}, True, 5), ({True: 1, 2: 2, UInt(5): 3}, True, 1),
    ({UInt(1): 1.0, 3: 3.0}, 3.0, 3.0),
    ({UInt(1): 1.0, 2: 2.0}, UInt(2), 2.0), ({UInt(1): 1.0}, 1, 1.0), ({0: "z"}, -0.0, "z"),
    ({"a": 1, 1: "one"}, 1, "one"), ({False: "f", 1: "one"}, False, "f"),
    ({True: None}, True, None),
])
def test_index(container: Any, key: Any, expected: Any) -> None:
    result = R.index(cel(container), key)
    assert type(result) is type(expected) and result == expected


@pytest.mark.parametrize(("container", "key", "message"), [
    ([1, 2, 3], 3, "index out of range: 3"), ([1, 2, 3], -1, "index out of range: -1"),
    ([1], UInt(1), "index out of range: 1u"), ([7, 8], 0.1, "invalid list index: 0.1"),
    ([7, 8], NAN, "invalid list index"), ([7, 8], INF, "invalid list index"),
    ([7, 8], 5.0, "index out of range: 5.0"), ([1], "0", "no such overload: list\\[string\\]"),
    ([1], True, "no such overload: list\\[bool\\]"), ([1], None, "no such overload"),
    ({0: 1, 2: 2}, 1, "no such key: 1"), ({"a": 1}, "b", "no such key: 'b'"),
    ({0: 1}, b"", "no such key"), ({0: 1}, None, "no such key: null"), ({0: 1}, [0], "no such key"),
    ({1: "x"}, True, "no such key: true"), ({True: "x"}, 1, "no such key: 1"),
    ({True: "x"}, 1.0, "no such key: 1.0"), ({False: "x"}, UInt(0), "no such key: 0u"),
    ({UInt(1): 1.0, 3: 3.0}, 3.1, "no such key: 3.1"), ({1: 1}, NAN, "no such key"),
    ("abc", 0, "no such overload: string\\[int\\]"), (None, "a", "no such overload: null_type"),
    (1, 0, "no such overload"),
])
def test_index_errors(container: Any, key: Any, message: str) -> None:
    with raises(message):
        R.index(cel(container), key)


def test_bool_and_number_keys_are_distinct_entries() -> None:
    both = R.make_map([(True, "t"), (1, "one"), (False, "f"), (0, "zero")])
    assert len(both) == 4 and R.size(both) == 4
    assert [R.index(both, k) for k in (True, 1, 1.0, UInt(1), False, 0)] == \
        ["t", "one", "one", "one", "f", "zero"]


def test_select_and_has_field() -> None:
    m = {"name": 1024, "content-type": "json"}
    assert R.select(m, "name") == 1024
    assert R.select(m, "content-type") == "json"
    assert R.has_field(m, "name") is True
    assert R.has_field(m, "other") is False
    assert R.has_field({}, "a") is False
    assert R.select({"n": None}, "n") is None


@pytest.mark.parametrize(("obj", "message"), [
    ({"holiday": "field"}, "no such key: 'name'"),
    ([1], "type 'list' does not support field selection"),
    (15, "type 'int' does not support field selection"),
    (None, "type 'null_type' does not support field selection"),
    ("s", "type 'string' does not support field selection"),
])
def test_select_errors(obj: Any, message: str) -> None:
    with raises(message):
        R.select(obj, "name")


@pytest.mark.parametrize("obj", [[1], 15, None, "s", ts(0)])
def test_has_field_needs_a_map(obj: Any) -> None:
    with raises("does not support field presence"):
        R.has_field(obj, "name")


def test_make_map() -> None:
    m = R.make_map([("a", 1), (2, "b"), (UInt(3), 3.0), (True, None)])
    assert m == {"a": 1, 2: "b", 3: 3.0, TRUE_KEY: None}
    assert [type(k) for k in m] == [str, int, UInt, BoolKey]
    assert R.make_map([]) == {}
    both = R.make_map([(True, 1), (False, 2), (2, 3)])
    assert R.index(both, True) == 1 and R.index(both, False) == 2


@pytest.mark.parametrize(("pairs", "message"), [
    ([(True, 1), (False, 2), (True, 3)], "repeated key: true"),
    ([(0, 1), (UInt(0), 2)], "repeated key: 0u"),
    ([("a", 1), ("a", 1)], "repeated key: 'a'"),
    ([(3.3, 15.15)], "unsupported key type: double"),
    ([(None, False)], "unsupported key type: null_type"),
    ([(b"k", 1)], "unsupported key type: bytes"),
    ([([1], 1)], "unsupported key type: list"),
    ([(ts(0), 1)], "unsupported key type"),
])
def test_make_map_errors(pairs: list[tuple[Any, Any]], message: str) -> None:
    with raises(message):
        R.make_map(pairs)


@pytest.mark.parametrize("pairs", [
    [(True, "a"), (1, "b")], [(1, "b"), (True, "a")], [(False, "a"), (0, "b")],
    [(UInt(1), "b"), (True, "a")],
])
def test_make_map_keeps_bool_and_equal_number_apart(pairs: list[tuple[Any, Any]]) -> None:
    # issue 8 F6: CEL has two distinct keys in {true: 'a', 1: 'b'}; a dict used to merge them.
    m = R.make_map(pairs)
    assert len(m) == 2
    for key, value in pairs:
        assert R.index(m, key) == value and R.in_(key, m) is True


@pytest.mark.parametrize(("value", "expected"), [
    ("", 0), ("four", 4), ("\u03c0\u03ad\u03bd\u03c4\u03b5", 5), ("\U0001f431", 1),
    (b"", 0), (b"abc", 3), ([], 0), ([1, 2, 3], 3), ((1,), 1), ({}, 0), ({1: "one", 2: "two"}, 2),
])
def test_size(value: Any, expected: int) -> None:
    assert R.size(value) == expected


@pytest.mark.parametrize("value", [1, UInt(1), 1.0, True, None, ts(0), dur(0), TYPES["int"]])
def test_size_errors(value: Any) -> None:
    with raises("no such overload: size"):
        R.size(value)


def test_type_name_never_raises() -> None:
    assert R.type_name(UInt(1)) == "uint"
    assert R.type_name(object()) == "object"
